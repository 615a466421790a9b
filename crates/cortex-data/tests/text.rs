//! Text: tokenizers, the vocabulary, fixed-length encoding, the CSV reader and batches.

use std::io::Write;
use std::path::PathBuf;

use burn::tensor::Device;
use cortex_data::*;
use proptest::prelude::*;

fn scratch(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cortex-text-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(contents)
        .unwrap();
    path
}

fn words(texts: &[&str]) -> Vec<Vec<String>> {
    texts
        .iter()
        .map(|t| Tokenizer::Words.tokenize(t, true))
        .collect()
}

#[test]
fn word_tokens_keep_inner_apostrophes_and_split_off_punctuation() {
    assert_eq!(
        Tokenizer::Words.tokenize("It's 3.5 km—“far”, isn't it?", false),
        [
            "It's", "3", ".", "5", "km", "—", "“", "far", "”", ",", "isn't", "it", "?"
        ]
    );
    // A leading or trailing apostrophe is punctuation.
    assert_eq!(
        Tokenizer::Words.tokenize("'twas dogs'", false),
        ["'", "twas", "dogs", "'"]
    );
    assert_eq!(
        Tokenizer::Words.tokenize("  \t\n ", false),
        Vec::<String>::new()
    );
    assert_eq!(Tokenizer::Characters.tokenize("ÉtÉ", true), ["é", "t", "é"]);
}

#[test]
fn the_vocabulary_numbers_tokens_by_count_then_name() {
    let texts = words(&["b a a", "c b a", "d"]);
    let vocabulary = Vocabulary::fit(texts.clone(), &VocabularyConfig::new()).unwrap();
    let order: Vec<_> = (0..vocabulary.len())
        .map(|id| vocabulary.token(id).unwrap())
        .collect();
    assert_eq!(order, ["<pad>", "<unk>", "a", "b", "c", "d"]);
    assert_eq!(vocabulary.id("b"), 3);
    assert_eq!(vocabulary.id("zebra"), Vocabulary::UNKNOWN);
    // min_count 2 keeps a (3) and b (2); max_size 3 keeps a alone.
    let frequent =
        Vocabulary::fit(texts.clone(), &VocabularyConfig::new().with_min_count(2)).unwrap();
    assert_eq!(frequent.len(), 4);
    assert_eq!(frequent.id("c"), Vocabulary::UNKNOWN);
    let small = Vocabulary::fit(texts.clone(), &VocabularyConfig::new().with_max_size(3)).unwrap();
    assert_eq!((small.len(), small.id("a"), small.id("b")), (3, 2, 1));
    // Configurations that cannot work are typed errors.
    assert!(matches!(
        Vocabulary::fit(texts.clone(), &VocabularyConfig::new().with_min_count(0)),
        Err(Error::InvalidArgument(InvalidValue {
            argument: "min_count",
            ..
        }))
    ));
    assert!(matches!(
        Vocabulary::fit(texts.clone(), &VocabularyConfig::new().with_max_size(2)),
        Err(Error::InvalidArgument(InvalidValue {
            argument: "max_size",
            ..
        }))
    ));
    assert!(matches!(
        Vocabulary::fit(texts, &VocabularyConfig::new().with_min_count(9)),
        Err(Error::Empty { .. })
    ));
}

#[test]
fn a_saved_vocabulary_loads_equal_and_a_corrupt_one_is_an_error() {
    let vocabulary = Vocabulary::fit(words(&["x y y"]), &VocabularyConfig::new()).unwrap();
    let path = scratch("vocabulary.json", b"");
    vocabulary.save(&path).unwrap();
    assert_eq!(Vocabulary::load(&path).unwrap(), vocabulary);
    for corrupt in [
        &b"not json"[..],
        br#"{"tokens": ["y", "<unk>"]}"#,
        br#"{"tokens": ["<pad>", "<unk>", "y", "y"]}"#,
        b"",
    ] {
        let path = scratch("corrupt.json", corrupt);
        assert!(
            matches!(Vocabulary::load(&path), Err(Error::Io { .. })),
            "{}",
            String::from_utf8_lossy(corrupt)
        );
    }
    assert!(matches!(
        Vocabulary::load(scratch("x", b"").with_file_name("absent.json")),
        Err(Error::Io { .. })
    ));
}

#[test]
fn texts_are_cut_or_padded_to_the_encoder_length() {
    let vocabulary = Vocabulary::fit(words(&["the cat sat"]), &VocabularyConfig::new()).unwrap();
    let encoder = TextEncoder::new(Tokenizer::Words, true, vocabulary, 4).unwrap();
    let (ids, real) = encoder.encode("The dog sat");
    let sat = encoder.vocabulary.id("sat");
    let the = encoder.vocabulary.id("the");
    assert_eq!(
        (ids, real),
        (vec![the, Vocabulary::UNKNOWN, sat, Vocabulary::PAD], 3)
    );
    let (ids, real) = encoder.encode("the the the the the the");
    assert_eq!((ids, real), (vec![the; 4], 4));
    assert_eq!(encoder.encode("").0, vec![Vocabulary::PAD; 4]);
    let vocabulary = encoder.vocabulary.clone();
    assert!(matches!(
        TextEncoder::new(Tokenizer::Words, true, vocabulary, 0),
        Err(Error::InvalidArgument(InvalidValue {
            argument: "length",
            ..
        }))
    ));
}

#[test]
fn a_text_csv_becomes_batches_of_ids_lengths_and_labels() {
    let csv =
        "id,sentence,language\n1,\"Hello, world\",en\n2,bonjour le monde,fr\n3,hello again,en\n";
    let path = scratch("texts.csv", csv.as_bytes());
    let texts = read_text_csv(&path, &TextCsvOptions::new("sentence", "language")).unwrap();
    assert_eq!(texts.len(), 3);
    assert_eq!(texts.classes(), ["en", "fr"]);
    assert_eq!(texts.labels(), [0, 1, 0]);
    assert_eq!(texts.text(0), Some("Hello, world"));
    let parts = split(
        3,
        &SplitConfig::new(2.0 / 3.0, 0.0, 1.0 / 3.0).with_seed(1),
        None,
    )
    .unwrap();
    let encoder = TextEncoder::new(
        Tokenizer::Characters,
        true,
        Vocabulary::fit(
            parts
                .train
                .iter()
                .map(|&i| Tokenizer::Characters.tokenize(texts.text(i).unwrap(), true)),
            &VocabularyConfig::new(),
        )
        .unwrap(),
        6,
    )
    .unwrap();
    let data = encoder.dataset(&texts, &[0, 1, 2]).unwrap();
    assert_eq!((data.len(), data.length()), (3, 6));
    let batch = data.batch(&[2, 0], &Device::flex()).unwrap();
    assert_eq!(batch.tokens.dims(), [2, 6]);
    let lengths: Vec<i64> = batch.lengths.into_data().iter().collect();
    let labels: Vec<i64> = batch.labels.into_data().iter().collect();
    assert_eq!((lengths, labels), (vec![6, 6], vec![0, 0]));
    let first: Vec<i64> = batch.tokens.into_data().iter().collect();
    let (expected, _) = encoder.encode("hello again");
    assert_eq!(
        first[..6],
        expected.iter().map(|&i| i as i64).collect::<Vec<_>>()
    );
    assert!(matches!(
        encoder.dataset(&texts, &[3]),
        Err(Error::InvalidArgument(InvalidValue {
            argument: "indices",
            ..
        }))
    ));
}

#[test]
fn bad_text_csv_files_are_errors_naming_the_place() {
    let options = TextCsvOptions::new("text", "label");
    let read = |csv: &str| read_text_csv(scratch("bad.csv", csv.as_bytes()), &options);
    assert!(matches!(
        read("words,label\nhi,en\n"),
        Err(Error::MissingColumn { column, .. }) if column == "text"
    ));
    assert!(matches!(
        read("text,label\nhi,en\nho,\n"),
        Err(Error::Csv { line: 3, column, .. }) if column == "label"
    ));
    assert!(matches!(
        read("text,label\nhi,en\nho\n"),
        Err(Error::Csv { line: 3, .. })
    ));
    assert!(matches!(read("text,label\n"), Err(Error::Empty { .. })));
    // Text that is not UTF-8 (Latin-1 "été") is an error at its line, not mojibake.
    let latin1 = scratch("latin1.csv", b"text,label\nok,fr\n\xe9t\xe9,fr\n");
    assert!(matches!(
        read_text_csv(latin1, &options),
        Err(Error::Csv { line: 3, .. })
    ));
    assert!(matches!(read(""), Err(Error::Empty { .. })));
    assert!(matches!(
        read_text_csv(PathBuf::from("/nonexistent/texts.csv"), &options),
        Err(Error::Io { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_text_reader_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..96)) {
        let mut csv = b"text,label\n".to_vec();
        csv.extend(bytes);
        let _ = read_text_csv(scratch("random.csv", &csv), &TextCsvOptions::new("text", "label"));
    }

    #[test]
    fn encoding_always_gives_the_encoder_length(text in "\\PC{0,40}", length in 1usize..12) {
        let vocabulary = Vocabulary::fit(words(&["a b c"]), &VocabularyConfig::new()).unwrap();
        let encoder = TextEncoder::new(Tokenizer::Words, false, vocabulary, length).unwrap();
        let (ids, real) = encoder.encode(&text);
        prop_assert_eq!(ids.len(), length);
        prop_assert!(real <= length);
        prop_assert!(ids[real..].iter().all(|&i| i == Vocabulary::PAD));
        prop_assert!(ids.iter().all(|&i| i < encoder.vocabulary.len()));
    }
}
