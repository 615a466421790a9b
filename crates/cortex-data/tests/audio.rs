//! Audio: WAV reading, the spectrogram features against values worked out from their
//! formulas (not by the code under test), and the class-folder dataset.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use cortex_data::*;
use proptest::prelude::*;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cortex-audio-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `frames` (one value per channel each) as a WAV file of `spec`.
fn write_wav(path: &Path, spec: hound::WavSpec, frames: &[Vec<f64>]) {
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for frame in frames {
        for &v in frame {
            match spec.sample_format {
                hound::SampleFormat::Float => writer.write_sample(v as f32).unwrap(),
                hound::SampleFormat::Int => {
                    let full = (1i64 << (spec.bits_per_sample - 1)) as f64;
                    let value = (v * full).round().clamp(-full, full - 1.0) as i32;
                    writer.write_sample(value).unwrap();
                }
            }
        }
    }
    writer.finalize().unwrap();
}

fn spec(channels: u16, rate: u32, bits: u16, float: bool) -> hound::WavSpec {
    hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    }
}

#[test]
fn every_wav_sample_format_reads_as_mono_in_unit_range() {
    let dir = scratch("formats");
    for (bits, float) in [
        (8, false),
        (16, false),
        (24, false),
        (32, false),
        (32, true),
    ] {
        let path = dir.join(format!("{bits}-{float}.wav"));
        // Left 0.5, right -0.25: the mean is 0.125; then a frame of 0.5 on both sides.
        write_wav(
            &path,
            spec(2, 8000, bits, float),
            &[vec![0.5, -0.25], vec![0.5, 0.5]],
        );
        let wave = read_wav(&path).unwrap();
        assert_eq!(wave.sample_rate, 8000);
        let tolerance = if bits == 8 { 1.0 / 128.0 } else { 1e-4 };
        assert_eq!(wave.samples.len(), 2, "{bits} bits");
        assert!(
            (wave.samples[0] - 0.125).abs() <= tolerance,
            "{bits}: {:?}",
            wave.samples
        );
        assert!(
            (wave.samples[1] - 0.5).abs() <= tolerance,
            "{bits}: {:?}",
            wave.samples
        );
    }
}

#[test]
fn missing_truncated_and_foreign_files_are_io_errors() {
    let dir = scratch("corrupt");
    let good = dir.join("good.wav");
    write_wav(&good, spec(1, 8000, 16, false), &vec![vec![0.1]; 100]);
    let bytes = std::fs::read(&good).unwrap();
    for (name, contents) in [
        ("truncated.wav", bytes[..30].to_vec()),
        ("text.wav", b"hello, not a wav file".to_vec()),
        ("empty.wav", Vec::new()),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        assert!(
            matches!(read_wav(&path), Err(Error::Io { path: p, .. }) if p == path),
            "{name}"
        );
    }
    assert!(matches!(
        read_wav(dir.join("absent.wav")),
        Err(Error::Io { .. })
    ));
    // A sample width WAV does not define (bits_per_sample 40, bytes 34..36 of the header).
    let mut wide = bytes.clone();
    wide[34..36].copy_from_slice(&40u16.to_le_bytes());
    let path = dir.join("wide.wav");
    std::fs::write(&path, wide).unwrap();
    assert!(
        matches!(read_wav(&path), Err(Error::Io { .. })),
        "{:?}",
        read_wav(&path)
    );
}

/// A sine of amplitude `a` completing `k` periods per `n` samples, `len` samples long.
fn sine(a: f64, k: usize, n: usize, len: usize) -> Vec<f32> {
    (0..len)
        .map(|t| {
            (a * (2.0 * std::f64::consts::PI * k as f64 * t as f64 / n as f64 + 0.3).sin()) as f32
        })
        .collect()
}

#[test]
fn a_sine_on_a_bin_has_the_hann_window_power() {
    // With the periodic Hann window, a sine of amplitude A on bin k (away from 0 and N/2)
    // gives |X[k]| = A N / 4 and |X[k ± 1]| = A N / 8, and nothing elsewhere.
    let (n, k, a) = (64usize, 5usize, 0.8f64);
    let config = SpectrogramConfig {
        sample_rate: 6400,
        n_fft: n,
        hop_length: 16,
        n_mels: 8,
        f_min: 0.0,
        f_max: 3200.0,
    };
    let signal = sine(a, k, n, 640);
    let power = config.power_spectrogram(&signal).unwrap();
    assert_eq!(power.len(), 1 + 640 / 16);
    assert_eq!(power[0].len(), n / 2 + 1);
    let frame = &power[10]; // centred on sample 160: the window lies inside the signal
    let peak = (a * n as f64 / 4.0).powi(2);
    let side = (a * n as f64 / 8.0).powi(2);
    // The signal is f32: allow its rounding.
    assert!(
        (frame[k] / peak - 1.0).abs() < 1e-5,
        "{} vs {peak}",
        frame[k]
    );
    assert!((frame[k - 1] / side - 1.0).abs() < 1e-5);
    assert!((frame[k + 1] / side - 1.0).abs() < 1e-5);
    for (bin, p) in frame.iter().enumerate() {
        if bin + 1 < k || bin > k + 1 {
            assert!(*p < 1e-6 * peak, "bin {bin}: {p}");
        }
    }
}

#[test]
fn mel_filters_are_the_htk_triangles() {
    // 8 kHz, n_fft 8 (bins every 1 kHz), two bands from 0 to 4 kHz: corners at
    // mel⁻¹(i · mel(4000) / 3) = 0, 620.58, 1791.33, 4000 Hz (worked out separately).
    let config = SpectrogramConfig {
        sample_rate: 8000,
        n_fft: 8,
        hop_length: 4,
        n_mels: 2,
        f_min: 0.0,
        f_max: 4000.0,
    };
    let filters = config.mel_filters().unwrap();
    let expected = [
        [0.0, 0.6759170156775076, 0.0, 0.0, 0.0],
        [
            0.0,
            0.3240829843224924,
            0.9055223143747371,
            0.4527611571873685,
            0.0,
        ],
    ];
    for (got, want) in filters.iter().zip(expected) {
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-9, "{filters:?}");
        }
    }
}

#[test]
fn mfccs_are_an_orthonormal_transform_of_the_log_mel_frame() {
    let config = SpectrogramConfig::speech(16000);
    assert_eq!(
        (config.n_fft, config.hop_length, config.n_mels),
        (400, 160, 40)
    );
    // Silence: every log-mel value is ln(1e-10), so c₀ = ln(1e-10)·√M and the rest vanish.
    let silence = vec![0.0f32; 1600];
    let mfcc = config.mfcc(&silence, 13).unwrap();
    assert_eq!((mfcc.len(), mfcc[0].len()), (11, 13));
    let c0 = (1e-10f64).ln() * 40f64.sqrt();
    assert!((mfcc[3][0] - c0).abs() < 1e-9);
    assert!(mfcc[3][1..].iter().all(|c| c.abs() < 1e-9));
    // All 40 coefficients keep the frame's energy (Parseval).
    let signal = sine(0.3, 7, 400, 1600);
    let log_mel = config.log_mel(&signal).unwrap();
    let full = config.mfcc(&signal, 40).unwrap();
    for (frame, coefficients) in log_mel.iter().zip(&full) {
        let energy: f64 = frame.iter().map(|v| v * v).sum();
        let kept: f64 = coefficients.iter().map(|v| v * v).sum();
        assert!((energy - kept).abs() < 1e-9 * energy, "{energy} vs {kept}");
    }
    assert!(matches!(
        config.mfcc(&signal, 41),
        Err(Error::InvalidArgument(InvalidValue {
            argument: "n_mfcc",
            ..
        }))
    ));
    let bad = SpectrogramConfig {
        f_max: 9000.0,
        ..config
    };
    assert!(matches!(
        bad.log_mel(&signal),
        Err(Error::InvalidArgument(_))
    ));
}

/// `DIR/yes/*.wav`, `DIR/no/*.wav` at `rate`, plus files the reader must skip.
fn speech_folder(name: &str, rate: u32) -> PathBuf {
    let dir = scratch(name);
    for (class, k) in [("yes", 3), ("no", 9)] {
        std::fs::create_dir_all(dir.join(class)).unwrap();
        for take in 0..3 {
            let samples: Vec<Vec<f64>> = sine(0.5, k, 100, 700 + 50 * take)
                .into_iter()
                .map(|s| vec![f64::from(s)])
                .collect();
            write_wav(
                &dir.join(class).join(format!("{take}.wav")),
                spec(1, rate, 16, false),
                &samples,
            );
        }
        std::fs::write(dir.join(class).join("README.txt"), "not audio").unwrap();
        std::fs::write(dir.join(class).join(".hidden.wav"), "skipped").unwrap();
    }
    dir
}

#[test]
fn a_class_folder_becomes_batches_of_feature_sequences() {
    let dir = speech_folder("folder", 8000);
    let config = AudioConfig::new(
        SpectrogramConfig::speech(8000),
        0.1,
        AudioFeatures::Mfcc(13),
    );
    let data = AudioFolder::read(&dir, &config).unwrap();
    assert_eq!(data.classes(), ["no", "yes"]);
    assert_eq!(data.labels(), [0, 0, 0, 1, 1, 1]);
    assert_eq!((data.frames(), data.width()), (1 + 800 / 80, 13));
    assert!(data.file(3).unwrap().ends_with("yes/0.wav"));
    let batch = data.batch(&[0, 4], &Device::flex()).unwrap();
    assert_eq!(batch.features.dims(), [2, 11, 13]);
    let labels: Vec<i64> = batch.labels.into_data().iter().collect();
    assert_eq!(labels, [0, 1]);
    // The two classes' tones differ in their features.
    let (no, yes) = (data.get(0).unwrap(), data.get(3).unwrap());
    assert_ne!(no.features, yes.features);
}

#[test]
fn a_survey_reads_rates_lengths_and_classes_from_the_headers() {
    let dir = speech_folder("survey", 8000);
    let survey = ClipSurvey::read(&dir).unwrap();
    assert_eq!(survey.sample_rate, 8000);
    assert_eq!(survey.lengths, [700, 750, 800, 700, 750, 800]);
    assert_eq!(survey.labels, [0, 0, 0, 1, 1, 1]);
    assert_eq!(survey.classes, ["no", "yes"]);
    assert_eq!(survey.quantile(&[0, 1, 2, 3, 4, 5], 1.0), 800);
    assert_eq!(survey.quantile(&[0, 1, 2, 3, 4, 5], 0.0), 700);
    assert_eq!(survey.quantile(&[0, 1, 99], 1.0), 750);
    // The statistics of one clip's frames: every frame counts once.
    let config = AudioConfig::new(SpectrogramConfig::speech(8000), 0.1, AudioFeatures::LogMel);
    let data = AudioFolder::read(&dir, &config).unwrap();
    let stats = data.feature_statistics(&[0]);
    let clip = data.get(0).unwrap().features;
    let band: Vec<f64> = clip.chunks(40).map(|f| f64::from(f[5])).collect();
    let mean = band.iter().sum::<f64>() / band.len() as f64;
    assert!((stats[5].0 - mean).abs() < 1e-6 * mean.abs().max(1.0));
    // A clip of another rate in the folder is named.
    write_wav(
        &dir.join("yes").join("fast.wav"),
        spec(1, 16000, 16, false),
        &vec![vec![0.1]; 100],
    );
    assert!(matches!(
        ClipSurvey::read(&dir),
        Err(Error::Audio { ref path, ref got, .. }) if path.ends_with("yes/fast.wav") && got == "16000 Hz"
    ));
}

#[test]
fn folders_the_dataset_was_not_built_for_are_errors() {
    let dir = speech_folder("rate", 8000);
    let config = AudioConfig::new(SpectrogramConfig::speech(16000), 0.1, AudioFeatures::LogMel);
    assert!(matches!(
        AudioFolder::read(&dir, &config),
        Err(Error::Audio { ref expected, ref got, .. }) if expected.starts_with("16000 Hz") && got == "8000 Hz"
    ));
    let config = AudioConfig::new(SpectrogramConfig::speech(8000), 0.1, AudioFeatures::LogMel);
    std::fs::create_dir_all(dir.join("maybe")).unwrap();
    assert!(matches!(
        AudioFolder::read(&dir, &config),
        Err(Error::Empty { .. })
    ));
    std::fs::write(dir.join("maybe").join("broken.wav"), b"RIFF....WAVE").unwrap();
    assert!(matches!(
        AudioFolder::read(&dir, &config),
        Err(Error::Io { path, .. }) if path.ends_with("maybe/broken.wav")
    ));
    assert!(matches!(
        AudioFolder::read(scratch("none"), &config),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        AudioFolder::read(dir.join("absent"), &config),
        Err(Error::Io { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_wav_reader_never_panics_on_mutated_files(
        edits in proptest::collection::vec((0usize..80, any::<u8>()), 1..6),
        cut in 0usize..80,
    ) {
        let dir = scratch("fuzz");
        let path = dir.join("x.wav");
        write_wav(&path, spec(2, 8000, 16, false), &vec![vec![0.25, -0.5]; 10]);
        let mut bytes = std::fs::read(&path).unwrap();
        for (at, value) in edits {
            if at < bytes.len() {
                bytes[at] = value;
            }
        }
        bytes.truncate(bytes.len().min(cut.max(1) * 2));
        std::fs::write(&path, &bytes).unwrap();
        if let Ok(wave) = read_wav(&path) {
            prop_assert!(wave.samples.iter().all(|s| s.is_finite()));
        }
    }
}
