//! Audio: WAV files read into mono samples ([`read_wav`], `hound`), log-mel spectrograms and
//! MFCCs ([`SpectrogramConfig`], the FFT from `realfft`), and labelled clips from a folder
//! per class ([`AudioFolder`], the Speech Commands layout) batched as `[B, frames, features]`.
//!
//! The features follow torchaudio's defaults: a periodic Hann window, frames centred on
//! `t · hop` (the signal padded with `n_fft / 2` zeros on each side), the power spectrum
//! `|X|²`, HTK mel filters (`mel(f) = 2595 log₁₀(1 + f / 700)`, triangles between adjacent
//! centres, no area normalisation); then `ln(max(mel, 1e-10))`, and the MFCCs as the
//! orthonormal DCT-II of the log-mel frame. The derivation is in `docs/math.md` ("Audio
//! features").

use std::f64::consts::PI;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::tensor::{Device, Int, Tensor, TensorData};
use realfft::RealFftPlanner;
use serde::{Deserialize, Serialize};

use crate::batch::{Collate, ToBatch, collate};
use crate::dataset::{Dataset, mean_std};
use crate::error::{Cause, Error, Result, invalid, io};
use crate::folders::class_files;

/// Mono samples in `[-1, 1]` and their rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Waveform {
    /// The samples, channels averaged.
    pub samples: Vec<f32>,
    /// Samples per second.
    pub sample_rate: u32,
}

/// Reads a WAV file (PCM 8, 16, 24 or 32 bits, or 32-bit float; any number of channels,
/// averaged into one).
///
/// # Errors
/// [`Error::Io`] for a missing, truncated or malformed file (the cause is `hound`'s error);
/// [`Error::Audio`] for a file with no channels or with NaN or infinite samples.
pub fn read_wav(path: impl AsRef<Path>) -> Result<Waveform> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| io(path, e))?;
    // hound validates the header; guard against a panic on bytes it did not anticipate.
    std::panic::catch_unwind(|| decode(std::io::BufReader::new(file), path))
        .unwrap_or_else(|_| Err(io(path, Cause::message("the file is not a valid WAV file"))))
}

/// Decodes WAV bytes from `reader`; `path` names them in errors.
fn decode(reader: impl std::io::Read, path: &Path) -> Result<Waveform> {
    let reader = hound::WavReader::new(reader).map_err(|e| io(path, Cause::new(e)))?;
    let spec = reader.spec();
    if spec.channels == 0 {
        return Err(audio_error(path, "at least one channel", "0 channels"));
    }
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .into_samples::<f32>()
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| io(path, Cause::new(e)))?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|s| s as f32 * scale))
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| io(path, Cause::new(e)))?
        }
    };
    if interleaved.iter().any(|s| !s.is_finite()) {
        return Err(audio_error(
            path,
            "finite samples",
            "NaN or infinite samples",
        ));
    }
    let channels = usize::from(spec.channels);
    let samples = interleaved
        .chunks(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect();
    Ok(Waveform {
        samples,
        sample_rate: spec.sample_rate,
    })
}

fn audio_error(path: &Path, expected: &str, got: impl std::fmt::Display) -> Error {
    Error::Audio {
        path: path.to_path_buf(),
        expected: expected.to_string(),
        got: got.to_string(),
    }
}

/// The short-time Fourier transform and mel filters of the features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpectrogramConfig {
    /// Samples per second the features are built for (> 0).
    pub sample_rate: u32,
    /// FFT size and window length (≥ 2).
    pub n_fft: usize,
    /// Samples between frames (> 0).
    pub hop_length: usize,
    /// Mel bands (> 0).
    pub n_mels: usize,
    /// Lowest filter edge, Hz.
    pub f_min: f64,
    /// Highest filter edge, Hz (≤ the Nyquist frequency `sample_rate / 2`).
    pub f_max: f64,
}

impl SpectrogramConfig {
    /// 25 ms windows every 10 ms, 40 mel bands from 0 Hz to the Nyquist frequency: the usual
    /// speech front end.
    pub fn speech(sample_rate: u32) -> Self {
        let rate = f64::from(sample_rate);
        Self {
            sample_rate,
            n_fft: ((rate * 0.025).round() as usize).max(2),
            hop_length: ((rate * 0.010).round() as usize).max(1),
            n_mels: 40,
            f_min: 0.0,
            f_max: rate / 2.0,
        }
    }

    fn validate(&self) -> Result<()> {
        const W: &str = "SpectrogramConfig";
        if self.sample_rate == 0 {
            return Err(invalid(W, "sample_rate", "> 0", 0));
        }
        if self.n_fft < 2 {
            return Err(invalid(W, "n_fft", ">= 2", self.n_fft));
        }
        if self.hop_length == 0 {
            return Err(invalid(W, "hop_length", "> 0", 0));
        }
        if self.n_mels == 0 {
            return Err(invalid(W, "n_mels", "> 0", 0));
        }
        let nyquist = f64::from(self.sample_rate) / 2.0;
        if !(0.0 <= self.f_min && self.f_min < self.f_max && self.f_max <= nyquist) {
            let expected = format!("0 <= f_min < f_max <= {nyquist} (the Nyquist frequency)");
            let got = format!("f_min {}, f_max {}", self.f_min, self.f_max);
            return Err(invalid(W, "f_max", &expected, got));
        }
        Ok(())
    }

    /// Frames of a clip of `samples` samples: `1 + samples / hop`.
    pub fn frames(&self, samples: usize) -> usize {
        1 + samples / self.hop_length.max(1)
    }

    /// `|X|²` of every frame, `[frames][n_fft / 2 + 1]`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an invalid configuration.
    pub fn power_spectrogram(&self, samples: &[f32]) -> Result<Vec<Vec<f64>>> {
        self.validate()?;
        let n = self.n_fft;
        let window: Vec<f64> = (0..n)
            .map(|i| 0.5 - 0.5 * (2.0 * PI * i as f64 / n as f64).cos())
            .collect();
        let fft: Arc<dyn realfft::RealToComplex<f64>> =
            RealFftPlanner::<f64>::new().plan_fft_forward(n);
        let (mut input, mut output) = (fft.make_input_vec(), fft.make_output_vec());
        let half = (n / 2) as isize;
        let mut frames = Vec::with_capacity(self.frames(samples.len()));
        for frame in 0..self.frames(samples.len()) {
            let start = (frame * self.hop_length) as isize - half;
            for (i, value) in input.iter_mut().enumerate() {
                let at = start + i as isize;
                let sample = usize::try_from(at)
                    .ok()
                    .and_then(|at| samples.get(at))
                    .map_or(0.0, |&s| f64::from(s));
                *value = sample * window[i];
            }
            fft.process(&mut input, &mut output)
                .map_err(|e| invalid("power_spectrogram", "n_fft", "a valid FFT size", e))?;
            frames.push(output.iter().map(|c| c.norm_sqr()).collect());
        }
        Ok(frames)
    }

    /// The mel filters, `[n_mels][n_fft / 2 + 1]`: triangles whose corners are `n_mels + 2`
    /// points equally spaced on the HTK mel scale from `f_min` to `f_max`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an invalid configuration.
    pub fn mel_filters(&self) -> Result<Vec<Vec<f64>>> {
        self.validate()?;
        let mel = |f: f64| 2595.0 * (1.0 + f / 700.0).log10();
        let hz = |m: f64| 700.0 * (10f64.powf(m / 2595.0) - 1.0);
        let (low, high) = (mel(self.f_min), mel(self.f_max));
        let corners: Vec<f64> = (0..self.n_mels + 2)
            .map(|i| hz(low + (high - low) * i as f64 / (self.n_mels + 1) as f64))
            .collect();
        let bins = self.n_fft / 2 + 1;
        let rate = f64::from(self.sample_rate);
        Ok((0..self.n_mels)
            .map(|m| {
                let (left, centre, right) = (corners[m], corners[m + 1], corners[m + 2]);
                (0..bins)
                    .map(|k| {
                        let f = k as f64 * rate / self.n_fft as f64;
                        let rising = (f - left) / (centre - left);
                        let falling = (right - f) / (right - centre);
                        rising.min(falling).max(0.0)
                    })
                    .collect()
            })
            .collect())
    }

    /// `ln(max(M P, 1e-10))` per frame: `[frames][n_mels]`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an invalid configuration.
    pub fn log_mel(&self, samples: &[f32]) -> Result<Vec<Vec<f64>>> {
        let filters = self.mel_filters()?;
        Ok(self
            .power_spectrogram(samples)?
            .iter()
            .map(|power| {
                filters
                    .iter()
                    .map(|filter| {
                        let energy: f64 = filter.iter().zip(power).map(|(w, p)| w * p).sum();
                        energy.max(1e-10).ln()
                    })
                    .collect()
            })
            .collect())
    }

    /// The first `n_mfcc` coefficients of the orthonormal DCT-II of every log-mel frame:
    /// `c_k = s_k Σ_m x_m cos(π k (m + ½) / M)`, `s_0 = √(1/M)`, `s_k = √(2/M)`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an invalid configuration or `n_mfcc` outside
    /// `1..=n_mels`.
    pub fn mfcc(&self, samples: &[f32], n_mfcc: usize) -> Result<Vec<Vec<f64>>> {
        if n_mfcc == 0 || n_mfcc > self.n_mels {
            let expected = format!("in 1..={} (n_mels)", self.n_mels);
            return Err(invalid(
                "SpectrogramConfig::mfcc",
                "n_mfcc",
                &expected,
                n_mfcc,
            ));
        }
        let m = self.n_mels as f64;
        Ok(self
            .log_mel(samples)?
            .iter()
            .map(|frame| {
                (0..n_mfcc)
                    .map(|k| {
                        let scale = if k == 0 {
                            (1.0 / m).sqrt()
                        } else {
                            (2.0 / m).sqrt()
                        };
                        let sum: f64 = frame
                            .iter()
                            .enumerate()
                            .map(|(j, x)| x * (PI * k as f64 * (j as f64 + 0.5) / m).cos())
                            .sum();
                        scale * sum
                    })
                    .collect()
            })
            .collect())
    }
}

/// The sample rate, length and class of every clip under `DIR/<class>/*.wav`, read from the
/// file headers only: what a split and a clip length for an [`AudioConfig`] are chosen from
/// before any feature is computed. Clips are in [`AudioFolder`]'s order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipSurvey {
    /// The rate every clip has.
    pub sample_rate: u32,
    /// Samples (per channel) of every clip.
    pub lengths: Vec<usize>,
    /// The class id of every clip.
    pub labels: Vec<usize>,
    /// The class names, by id (the folder names, sorted).
    pub classes: Vec<String>,
}

impl ClipSurvey {
    /// Reads the headers of every clip under `dir`.
    ///
    /// # Errors
    /// As [`AudioFolder::read`], and [`Error::Audio`] for a clip whose rate differs from the
    /// first clip's (resample the folder to one rate).
    pub fn read(dir: impl AsRef<Path>) -> Result<Self> {
        let (classes, files) = class_files(dir.as_ref(), &["wav"], None)?;
        let mut survey: Option<Self> = None;
        for (label, wav) in files {
            let reader = std::panic::catch_unwind(|| hound::WavReader::open(&wav))
                .unwrap_or_else(|_| Err(hound::Error::FormatError("not a valid WAV file")))
                .map_err(|e| io(&wav, Cause::new(e)))?;
            let (rate, length) = (reader.spec().sample_rate, reader.duration() as usize);
            match &mut survey {
                None => {
                    survey = Some(Self {
                        sample_rate: rate,
                        lengths: vec![length],
                        labels: vec![label],
                        classes: classes.clone(),
                    })
                }
                Some(s) if s.sample_rate == rate => {
                    s.lengths.push(length);
                    s.labels.push(label);
                }
                Some(s) => {
                    let expected =
                        format!("{} Hz, the rate of the folder's first clip", s.sample_rate);
                    return Err(audio_error(&wav, &expected, format!("{rate} Hz")));
                }
            }
        }
        survey.ok_or_else(|| Error::Empty {
            what: dir.as_ref().display().to_string(),
            reason: "no WAV clips".to_string(),
        })
    }

    /// The length that `share` (in `[0, 1]`) of the clips `clips` (indices; those past the
    /// end are skipped) do not exceed, in samples (at least 1): with `1.0`, the longest.
    pub fn quantile(&self, clips: &[usize], share: f64) -> usize {
        let mut sorted: Vec<usize> = clips
            .iter()
            .filter_map(|&i| self.lengths.get(i).copied())
            .collect();
        sorted.sort_unstable();
        let last = sorted.len().saturating_sub(1);
        let rank = ((share.clamp(0.0, 1.0) * last as f64).ceil() as usize).min(last);
        sorted.get(rank).copied().unwrap_or(0).max(1)
    }
}

/// Which features an [`AudioFolder`] computes per frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudioFeatures {
    /// The log-mel spectrogram (`n_mels` per frame).
    LogMel,
    /// That many MFCCs per frame.
    Mfcc(usize),
}

/// How an [`AudioFolder`] turns clips into features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioConfig {
    /// The spectrogram; every file must have its sample rate.
    pub spectrogram: SpectrogramConfig,
    /// Samples per clip (> 0): longer clips are cut, shorter ones padded with silence, so
    /// every clip has the same frames.
    pub clip_samples: usize,
    /// The features per frame.
    pub features: AudioFeatures,
}

impl AudioConfig {
    /// Clips of `seconds` at `spectrogram`'s rate, `features` per frame.
    pub fn new(spectrogram: SpectrogramConfig, seconds: f64, features: AudioFeatures) -> Self {
        let clip_samples = (seconds * f64::from(spectrogram.sample_rate))
            .round()
            .max(0.0);
        Self {
            spectrogram,
            clip_samples: clip_samples as usize,
            features,
        }
    }

    /// Frames per clip.
    pub fn frames(&self) -> usize {
        self.spectrogram.frames(self.clip_samples)
    }

    /// Features per frame.
    pub fn width(&self) -> usize {
        match self.features {
            AudioFeatures::LogMel => self.spectrogram.n_mels,
            AudioFeatures::Mfcc(n) => n,
        }
    }

    /// The features of `waveform` (read from `path`), `[frames · width]` row-major.
    ///
    /// # Errors
    /// [`Error::Audio`] for another sample rate than the configuration's;
    /// [`Error::InvalidArgument`] for an invalid configuration.
    pub fn features(&self, waveform: &Waveform, path: &Path) -> Result<Vec<f32>> {
        let rate = self.spectrogram.sample_rate;
        if waveform.sample_rate != rate {
            return Err(audio_error(
                path,
                &format!("{rate} Hz (the rate the features are built for; resample the file)"),
                format!("{} Hz", waveform.sample_rate),
            ));
        }
        if self.clip_samples == 0 {
            return Err(invalid("AudioConfig", "clip_samples", "> 0", 0));
        }
        let mut clip = waveform.samples.clone();
        clip.resize(self.clip_samples, 0.0);
        let frames = match self.features {
            AudioFeatures::LogMel => self.spectrogram.log_mel(&clip)?,
            AudioFeatures::Mfcc(n) => self.spectrogram.mfcc(&clip, n)?,
        };
        Ok(frames.into_iter().flatten().map(|v| v as f32).collect())
    }
}

/// One clip's features `[frames, width]` and its class.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioSample {
    /// Features, row-major `[frames, width]`.
    pub features: Vec<f32>,
    /// Frames.
    pub frames: usize,
    /// Features per frame.
    pub width: usize,
    /// Class id.
    pub label: usize,
}

/// Features `[B, frames, width]` (batch-first sequences) and class ids `[B]`.
#[derive(Debug, Clone)]
pub struct AudioBatch {
    /// The features.
    pub features: Tensor<3>,
    /// The class ids.
    pub labels: Tensor<1, Int>,
}

/// Labelled clips from `DIR/<class>/*.wav` (the Speech Commands layout): class names are
/// the folder names, in sorted order; files of other extensions and hidden files are
/// skipped. Features are computed once, when the folder is read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioFolder {
    features: Vec<f32>,
    labels: Vec<usize>,
    files: Vec<PathBuf>,
    classes: Vec<String>,
    frames: usize,
    width: usize,
}

impl AudioFolder {
    /// Reads every clip under `dir`.
    ///
    /// # Errors
    /// [`Error::Io`] for an unreadable folder or file; [`Error::Empty`] for no class folder
    /// or a class folder without WAV files; [`Error::Audio`] for a file of another sample
    /// rate; [`Error::InvalidArgument`] for an invalid configuration.
    pub fn read(dir: impl AsRef<Path>, config: &AudioConfig) -> Result<Self> {
        Self::read_with_classes(dir, config, None)
    }

    /// As [`AudioFolder::read`], with the class ids of `classes` (e.g. a test folder read
    /// with the training folder's classes); a class folder outside them is an error.
    ///
    /// # Errors
    /// As `read`, and [`Error::InvalidArgument`] for a folder outside `classes`.
    pub fn read_with_classes(
        dir: impl AsRef<Path>,
        config: &AudioConfig,
        classes: Option<&[String]>,
    ) -> Result<Self> {
        let (classes, files) = class_files(dir.as_ref(), &["wav"], classes)?;
        let mut folder = Self {
            features: Vec::new(),
            labels: Vec::new(),
            files: Vec::new(),
            classes,
            frames: config.frames(),
            width: config.width(),
        };
        for (label, wav) in files {
            let waveform = read_wav(&wav)?;
            folder.features.extend(config.features(&waveform, &wav)?);
            folder.labels.push(label);
            folder.files.push(wav);
        }
        Ok(folder)
    }

    /// The class names, by id.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The class id of every clip (for a stratified [`crate::split`]).
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// The file of clip `index`.
    pub fn file(&self, index: usize) -> Option<&Path> {
        self.files.get(index).map(PathBuf::as_path)
    }

    /// The mean and standard deviation of every feature (column) over all frames of the
    /// clips `clips` (indices; those past the end are skipped): fit them on the training
    /// clips to normalise every split the same way. A constant feature reports a standard
    /// deviation of 1, so dividing by it is safe.
    pub fn feature_statistics(&self, clips: &[usize]) -> Vec<(f64, f64)> {
        let (width, size) = (self.width.max(1), self.frames * self.width);
        let mut sums = vec![(0.0f64, 0.0f64); self.width];
        let mut frames = 0usize;
        for &clip in clips {
            let Some(features) = self.features.get(clip * size..(clip + 1) * size) else {
                continue;
            };
            for frame in features.chunks(width) {
                for (sum, &v) in sums.iter_mut().zip(frame) {
                    sum.0 += f64::from(v);
                    sum.1 += f64::from(v) * f64::from(v);
                }
                frames += 1;
            }
        }
        sums.into_iter()
            .map(|(sum, squares)| mean_std(sum, squares, frames))
            .collect()
    }

    /// Frames per clip.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Features per frame.
    pub fn width(&self) -> usize {
        self.width
    }
}

impl Dataset for AudioFolder {
    type Item = AudioSample;

    fn len(&self) -> usize {
        self.labels.len()
    }

    fn get(&self, index: usize) -> Option<AudioSample> {
        let size = self.frames * self.width;
        Some(AudioSample {
            features: self
                .features
                .get(index * size..(index + 1) * size)?
                .to_vec(),
            frames: self.frames,
            width: self.width,
            label: *self.labels.get(index)?,
        })
    }
}

impl Collate for AudioSample {
    type Batch = AudioBatch;

    /// Every clip must have the first one's frames and width.
    fn collate(items: Vec<Self>, device: &Device) -> Result<AudioBatch> {
        let (frames, width) = match items.first() {
            Some(first) => (first.frames, first.width),
            None => return Err(invalid("AudioSample::collate", "items", "at least one", 0)),
        };
        let batch = items.len();
        let mut features = Vec::with_capacity(batch * frames * width);
        for item in &items {
            if (item.frames, item.width, item.features.len()) != (frames, width, frames * width) {
                return Err(Error::ShapeMismatch {
                    what: "AudioSample::collate",
                    expected: format!("clips of {frames} frames × {width} features"),
                    got: format!("{} frames × {} features", item.frames, item.width),
                });
            }
            features.extend_from_slice(&item.features);
        }
        let labels: Vec<i64> = items.iter().map(|i| i.label as i64).collect();
        Ok(AudioBatch {
            features: Tensor::from_data(TensorData::new(features, [batch, frames, width]), device),
            labels: Tensor::from_data(TensorData::new(labels, [batch]), device),
        })
    }
}

impl ToBatch for AudioFolder {
    type Batch = AudioBatch;

    fn batch(&self, indices: &[usize], device: &Device) -> Result<AudioBatch> {
        collate("AudioFolder::batch", self, indices, device)
    }
}
