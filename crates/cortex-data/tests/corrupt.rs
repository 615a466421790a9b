//! Corrupt inputs give the right error variant, never a panic.

use std::io::Write;
use std::path::PathBuf;

use cortex_data::*;

fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cortex-data-corrupt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn idx(dims: &[u32], body: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend_from_slice(body);
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn idx_errors() {
    let good = idx(&[2, 2, 2], &[1, 2, 3, 4, 5, 6, 7, 8]);
    let path = scratch("good.idx", &good);
    assert_eq!(read_idx(&path).unwrap().dims, [2, 2, 2]);
    assert_eq!(
        read_idx(scratch("good.idx.gz", &gzip(&good))).unwrap().data,
        [1, 2, 3, 4, 5, 6, 7, 8]
    );
    // Truncated body: the offset is where the data ends.
    let err = read_idx(scratch("short.idx", &good[..good.len() - 3])).unwrap_err();
    assert!(matches!(err, Error::Idx { offset: 21, .. }), "{err}");
    // Trailing bytes.
    let mut long = good.clone();
    long.push(9);
    assert!(matches!(
        read_idx(scratch("long.idx", &long)),
        Err(Error::Idx { .. })
    ));
    // Wrong magic, wrong type, header cut short, empty file.
    assert!(matches!(
        read_idx(scratch("magic.idx", &[1, 0, 8, 1, 0, 0, 0, 0])),
        Err(Error::Idx { offset: 0, .. })
    ));
    assert!(matches!(
        read_idx(scratch("type.idx", &[0, 0, 0x0d, 1, 0, 0, 0, 0])),
        Err(Error::Idx { offset: 2, .. })
    ));
    assert!(matches!(
        read_idx(scratch("header.idx", &[0, 0, 8, 3, 0, 0])),
        Err(Error::Idx { .. })
    ));
    assert!(matches!(
        read_idx(scratch("empty.idx", &[])),
        Err(Error::Idx { offset: 0, .. })
    ));
    // Corrupt gzip stream.
    let mut broken = gzip(&good);
    broken.truncate(broken.len() / 2);
    assert!(matches!(
        read_idx(scratch("broken.gz", &broken)),
        Err(Error::Idx { .. })
    ));
    // Absurd dimensions are refused before allocating.
    assert!(matches!(
        read_idx(scratch("huge.idx", &idx(&[u32::MAX, u32::MAX, 4], &[]))),
        Err(Error::Idx { .. })
    ));
    assert!(matches!(
        read_idx(scratch("absent.idx", &[]).with_extension("none")),
        Err(Error::Io { .. })
    ));
}

#[test]
fn image_label_pairs_are_checked() {
    let images = scratch("i.idx", &idx(&[3, 2, 2], &[0; 12]));
    let labels = scratch("l.idx", &idx(&[2], &[0, 1]));
    assert!(matches!(
        ImageDataset::from_idx(&images, &labels, 255),
        Err(Error::CountMismatch {
            left: 3,
            right: 2,
            ..
        })
    ));
    // Images given where labels are expected: the rank is wrong.
    assert!(matches!(
        ImageDataset::from_idx(&images, &images, 255),
        Err(Error::Idx { offset: 3, .. })
    ));
    let labels = scratch("l3.idx", &idx(&[3], &[0, 1, 2]));
    let data = ImageDataset::from_idx(&images, &labels, 255).unwrap();
    assert_eq!(data.class_counts(), [1, 1, 1]);
    // A pixel above the declared maximum.
    let hot = scratch("hot.idx", &idx(&[3, 2, 2], &[17; 12]));
    assert!(matches!(
        ImageDataset::from_idx(&hot, &labels, 16),
        Err(Error::InvalidArgument(InvalidValue { .. }))
    ));
}

fn csv(text: &str) -> Result<TabularDataset> {
    parse_csv(
        text.as_bytes(),
        std::path::Path::new("mem.csv"),
        &CsvOptions::new("y"),
    )
}

#[test]
fn csv_errors_name_line_and_column() {
    assert!(matches!(csv(""), Err(Error::Empty { .. })));
    assert!(matches!(csv("a,y\n"), Err(Error::Empty { .. })));
    assert!(matches!(
        csv("a,b\n1,2\n"),
        Err(Error::MissingColumn { .. })
    ));
    assert_eq!(
        csv("a,b,y\n1,2,3\n4,5\n").unwrap_err(),
        Error::Csv {
            path: "mem.csv".into(),
            line: 3,
            column: "row".into(),
            expected: "3 fields (as the header)".into(),
            got: "2 fields".into(),
        }
    );
    let err = csv("a,b,y\n1,2,3\n4,x5,6\n").unwrap_err();
    assert!(
        matches!(&err, Error::Csv { line: 3, column, got, .. } if column == "b" && got == "x5"),
        "{err}"
    );
    let err = csv("a,y\n1,2\nNaN,3\n").unwrap_err();
    assert!(
        matches!(&err, Error::Csv { line: 3, column, .. } if column == "a"),
        "{err}"
    );
    let err = csv("a,y\n1,2\n,3\n").unwrap_err();
    assert!(matches!(&err, Error::Csv { line: 3, .. }), "{err}");
    assert!(matches!(
        csv("a,y\ninf,2\n"),
        Err(Error::Csv { line: 2, .. })
    ));
    assert!(matches!(csv("a,y\n1,\n"), Err(Error::Csv { line: 2, .. })));
    // Kept as NaN when asked, for imputation.
    let kept = parse_csv(
        "a,y\n1,2\nNA,3\n".as_bytes(),
        std::path::Path::new("mem.csv"),
        &CsvOptions::new("y").with_missing(MissingPolicy::Keep),
    )
    .unwrap();
    assert!(kept.value(1, 0).is_some_and(f64::is_nan));
    // Out of range is `None`, not a panic (#16).
    assert_eq!(kept.value(kept.len(), 0), None);
    assert_eq!(kept.value(0, kept.num_features()), None);
    // A categorical target is mapped to class ids in sorted order of the names.
    let animals = csv("w,y\n1,dog\n2,cat\n3,dog\n").unwrap();
    assert_eq!(animals.class_ids().unwrap(), [1, 0, 1]);
    assert_eq!(animals.num_classes(), 2);
    assert!(matches!(
        read_csv("/nonexistent/file.csv", &CsvOptions::new("y")),
        Err(Error::Io { .. })
    ));
    // Invalid UTF-8 is an error, not a panic.
    let bytes: &[u8] = b"a,y\n\xff\xfe,1\n";
    assert!(
        parse_csv(
            bytes,
            std::path::Path::new("mem.csv"),
            &CsvOptions::new("y")
        )
        .is_err()
    );
}

#[test]
fn batch_and_window_arguments_are_checked() {
    assert!(matches!(
        BatchSampler::new(vec![0, 1], BatchSamplerConfig::new(0)),
        Err(Error::InvalidArgument(InvalidValue { .. }))
    ));
    assert!(matches!(
        BatchSampler::new(vec![], BatchSamplerConfig::new(2)),
        Err(Error::Empty { .. })
    ));
    let config = WindowConfig {
        window: 3,
        horizon: 2,
        stride: 1,
    };
    assert!(matches!(
        windows(&[1.0; 4], config),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        windows(
            &[1.0; 9],
            WindowConfig {
                stride: 0,
                ..config
            }
        ),
        Err(Error::InvalidArgument(InvalidValue { .. }))
    ));
    let iris = bundled::iris().unwrap();
    let device = burn::tensor::Device::flex();
    assert!(matches!(
        iris.batch(&[150], &device),
        Err(Error::InvalidArgument(InvalidValue { .. }))
    ));
    assert!(matches!(
        iris.select(&[0, 999]),
        Err(Error::InvalidArgument(InvalidValue { .. }))
    ));
    assert!(matches!(
        split(10, &SplitConfig::new(0.5, 0.3, 0.3), None),
        Err(Error::InvalidArgument(InvalidValue {
            argument: "train + validation + test",
            ..
        }))
    ));
    assert!(matches!(
        split(10, &SplitConfig::new(0.5, 0.5, 0.0).stratified(), None),
        Err(Error::InvalidArgument(InvalidValue { .. }))
    ));
    // Four rows split 70/15/15 leave the test part empty: said so, with the count that fills it.
    let err = split(4, &SplitConfig::new(0.7, 0.15, 0.15), None).unwrap_err();
    assert!(matches!(err, Error::Empty { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the test part is empty: splitting 4 samples 0.70/0.15/0.15 leaves it without a sample \
         (its fraction is 0.15): give at least 6 samples or set the test fraction to 0"
    );
    assert!(split(6, &SplitConfig::new(0.7, 0.15, 0.15), None).is_ok());
    let err = split(
        4,
        &SplitConfig::new(0.7, 0.15, 0.15).stratified(),
        Some(&[0, 0, 1, 1]),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("split without stratifying"),
        "{err}"
    );
}
