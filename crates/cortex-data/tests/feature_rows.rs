//! New rows for a trained tabular model: read against the training file's feature columns,
//! categorical cells keep their training codes whatever the new file holds.

use std::path::Path;

use cortex_data::*;

const TRAIN: &str = "island,sex,mass,species\nBiscoe,male,3750,Adelie\nDream,NA,3800,Chinstrap\nBiscoe,female,3250,Adelie\nDream,female,4000,Chinstrap\nTorgersen,female,3450,Adelie\n";

fn training() -> TabularDataset {
    let options = CsvOptions::new("species")
        .with_target_kind(TargetKind::Classes)
        .with_categorical(vec!["island".into(), "sex".into()])
        .with_missing(MissingPolicy::Keep);
    parse_csv(TRAIN.as_bytes(), Path::new("train.csv"), &options).unwrap()
}

#[test]
fn new_rows_get_the_training_codes_in_any_column_order() {
    let train = training();
    let columns = train.feature_columns();
    assert_eq!(columns.names, ["island", "sex", "mass"]);
    assert_eq!(
        columns.categories,
        vec![
            (0, vec!["Biscoe".into(), "Dream".into(), "Torgersen".into()]),
            (1, vec!["female".into(), "male".into()]),
        ]
    );
    // Reordered columns, an extra id column, no target; only Torgersen and male appear, so
    // read alone this file would code them 0 and 0.
    let new = "id,mass,sex,island\n7,3900,male,Torgersen\n8,NA,male,Torgersen\n";
    let rows = parse_feature_rows(new.as_bytes(), Path::new("new.csv"), &columns).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows.feature_names(), ["island", "sex", "mass"]);
    assert_eq!(&rows.features()[..3], &[2.0, 1.0, 3900.0]);
    assert!(
        rows.features()[5].is_nan(),
        "a missing cell is NaN, for the imputer"
    );
    assert_eq!(rows.feature_columns(), columns);
    // The training rows read this way give the training codes exactly.
    let again = parse_feature_rows(TRAIN.as_bytes(), Path::new("train.csv"), &columns).unwrap();
    let same = train
        .features()
        .iter()
        .zip(again.features())
        .all(|(a, b)| a == b || (a.is_nan() && b.is_nan()));
    assert!(same);
    // The fitted pipeline runs on them: the NA mass is imputed, the categories one-hot encoded.
    let mut fitted = train.clone();
    let pipeline = Pipeline::fit_standard(&mut fitted).unwrap();
    let mut rows = rows;
    pipeline.transform(&mut rows).unwrap();
    assert_eq!(rows.num_features(), fitted.num_features());
    assert!(rows.features().iter().all(|v| v.is_finite()));
}

#[test]
fn an_unknown_category_a_missing_column_and_a_bad_number_are_typed_errors() {
    let columns = training().feature_columns();
    let parse = |text: &str| parse_feature_rows(text.as_bytes(), Path::new("new.csv"), &columns);
    match parse("island,sex,mass\nBiscoe,male,3000\nAtlantis,male,3000\n") {
        Err(Error::Csv {
            line,
            column,
            expected,
            got,
            ..
        }) => {
            assert_eq!(
                (line, column.as_str(), got.as_str()),
                (3, "island", "Atlantis")
            );
            assert!(expected.contains("Biscoe, Dream, Torgersen"), "{expected}");
        }
        other => panic!("expected Error::Csv, got {other:?}"),
    }
    match parse("island,mass\nBiscoe,3000\n") {
        Err(Error::MissingColumn { column, .. }) => assert_eq!(column, "sex"),
        other => panic!("expected Error::MissingColumn, got {other:?}"),
    }
    match parse("island,sex,mass\nBiscoe,male,heavy\n") {
        Err(Error::Csv { line, column, .. }) => assert_eq!((line, column.as_str()), (2, "mass")),
        other => panic!("expected Error::Csv, got {other:?}"),
    }
    assert!(matches!(
        parse("island,sex,mass\n"),
        Err(Error::Empty { .. })
    ));
    let none = FeatureColumns {
        names: Vec::new(),
        categories: Vec::new(),
    };
    assert!(matches!(
        parse_feature_rows("a\n1\n".as_bytes(), Path::new("x.csv"), &none),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        read_feature_rows("/no/such/rows.csv", &columns),
        Err(Error::Io { .. })
    ));
}
