//! Configuration errors, schedules against their closed forms, plateau reduction on a scripted
//! metric, clipping on known vectors, and bit-identical resume from saved state.

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::{DType, Device, Tensor, TensorData};
use cortex_core::Backend;
use cortex_optim::InvalidValue;
use cortex_optim::*;

#[test]
fn bad_hyper_parameters_are_typed_errors() {
    let err = |config: OptimizerConfig| config.init().unwrap_err();
    assert_eq!(
        err(OptimizerConfig::Sgd(SgdConfig::new().with_lr(-0.1))),
        Error::InvalidConfig(InvalidValue {
            owner: "Sgd",
            argument: "lr",
            expected: "finite and >= 0".into(),
            got: "-0.1".into()
        })
    );
    assert!(matches!(
        err(OptimizerConfig::Sgd(SgdConfig::new().with_lr(f64::NAN))),
        Error::InvalidConfig(InvalidValue {
            owner: "Sgd",
            argument: "lr",
            ..
        })
    ));
    assert!(matches!(
        err(OptimizerConfig::Sgd(SgdConfig::new().with_momentum(-0.5))),
        Error::InvalidConfig(InvalidValue {
            owner: "Sgd",
            argument: "momentum",
            ..
        })
    ));
    assert!(matches!(
        err(OptimizerConfig::Sgd(SgdConfig::new().with_nesterov(true))),
        Error::InvalidConfig(InvalidValue {
            owner: "Sgd",
            argument: "nesterov",
            ..
        })
    ));
    assert!(matches!(
        err(OptimizerConfig::Adam(
            AdamConfig::new().with_betas([0.9, 1.0])
        )),
        Error::InvalidConfig(InvalidValue {
            owner: "Adam",
            argument: "betas[1]",
            ..
        })
    ));
    assert!(matches!(
        err(OptimizerConfig::AdamW(
            AdamWConfig::new().with_betas([-0.1, 0.9])
        )),
        Error::InvalidConfig(InvalidValue {
            owner: "AdamW",
            argument: "betas[0]",
            ..
        })
    ));
    assert!(matches!(
        err(OptimizerConfig::Adam(AdamConfig::new().with_eps(0.0))),
        Error::InvalidConfig(InvalidValue {
            owner: "Adam",
            argument: "eps",
            ..
        })
    ));
    assert!(matches!(
        err(OptimizerConfig::RmsProp(
            RmsPropConfig::new().with_alpha(1.0)
        )),
        Error::InvalidConfig(InvalidValue {
            owner: "RmsProp",
            argument: "alpha",
            ..
        })
    ));
    assert!(matches!(
        err(OptimizerConfig::Adagrad(
            AdagradConfig::new().with_eps(-1e-10)
        )),
        Error::InvalidConfig(InvalidValue {
            owner: "Adagrad",
            argument: "eps",
            ..
        })
    ));
    let mut optim = OptimizerConfig::Sgd(SgdConfig::new()).init().unwrap();
    assert!(optim.set_lr(f64::INFINITY).is_err());
    assert!(
        optim
            .clone()
            .with_clipping(GradClipping::Norm { max_norm: 0.0 })
            .is_err()
    );
    assert!(
        LrSchedule::Step {
            lr: 0.1,
            step_size: 0,
            gamma: 0.5
        }
        .validate()
        .is_err()
    );
    assert!(
        LrSchedule::MultiStep {
            lr: 0.1,
            milestones: vec![5, 3],
            gamma: 0.5
        }
        .validate()
        .is_err()
    );
    assert!(
        PlateauConfig {
            factor: 1.0,
            ..PlateauConfig::new(0.1)
        }
        .init()
        .is_err()
    );
    // Configurations are serde: a trained model can record how it was trained.
    let config = OptimizerConfig::AdamW(AdamWConfig::new().with_lr(3e-4));
    let json = serde_json::to_string(&config).unwrap();
    assert_eq!(
        serde_json::from_str::<OptimizerConfig>(&json).unwrap(),
        config
    );
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

#[test]
fn schedules_follow_their_closed_forms() {
    let pi = std::f64::consts::PI;
    let step = LrSchedule::Step {
        lr: 0.1,
        step_size: 3,
        gamma: 0.5,
    };
    for (t, expected) in [(0, 0.1), (2, 0.1), (3, 0.05), (8, 0.025), (9, 0.0125)] {
        assert!(close(step.lr(t), expected), "step {t}: {}", step.lr(t));
    }
    let multi = LrSchedule::MultiStep {
        lr: 1.0,
        milestones: vec![2, 5],
        gamma: 0.1,
    };
    for (t, expected) in [
        (0, 1.0),
        (1, 1.0),
        (2, 0.1),
        (4, 0.1),
        (5, 0.01),
        (100, 0.01),
    ] {
        assert!(close(multi.lr(t), expected), "multistep {t}");
    }
    let exp = LrSchedule::Exponential {
        lr: 0.2,
        gamma: 0.9,
    };
    for t in [0, 1, 7, 30] {
        assert!(close(exp.lr(t), 0.2 * 0.9f64.powi(t as i32)));
    }
    let cosine = LrSchedule::CosineAnnealing {
        lr: 0.1,
        t_max: 10,
        eta_min: 0.001,
        restart_mult: None,
    };
    for t in [0, 3, 5, 10] {
        let expected = 0.001 + 0.099 * (1.0 + (pi * t as f64 / 10.0).cos()) / 2.0;
        assert!(close(cosine.lr(t), expected), "cosine {t}");
    }
    assert!(close(cosine.lr(10), 0.001));
    // Warm restarts: periods 4, 8, 16 (T_mult 2): restarts at 4 and 12.
    let sgdr = LrSchedule::CosineAnnealing {
        lr: 1.0,
        t_max: 4,
        eta_min: 0.0,
        restart_mult: Some(2),
    };
    assert!(close(sgdr.lr(4), 1.0) && close(sgdr.lr(12), 1.0));
    assert!(close(sgdr.lr(6), (1.0 + (pi * 2.0 / 8.0).cos()) / 2.0));
    assert!(close(sgdr.lr(13), (1.0 + (pi / 16.0).cos()) / 2.0));
    let sgdr1 = LrSchedule::CosineAnnealing {
        lr: 1.0,
        t_max: 5,
        eta_min: 0.0,
        restart_mult: Some(1),
    };
    assert!(close(sgdr1.lr(7), sgdr1.lr(2)));
    // Linear warm-up composed with a step decay.
    let warm = LrSchedule::Warmup {
        steps: 4,
        start_factor: 0.25,
        then: Box::new(step.clone()),
    };
    warm.validate().unwrap();
    for (t, expected) in [
        (0, 0.025),
        (1, 0.04375),
        (2, 0.0625),
        (3, 0.08125),
        (4, 0.1),
        (7, 0.05),
    ] {
        assert!(close(warm.lr(t), expected), "warmup {t}: {}", warm.lr(t));
    }
}

#[test]
fn plateau_reduction_respects_patience_threshold_cooldown_and_min_lr() {
    let config = PlateauConfig {
        patience: 2,
        cooldown: 1,
        factor: 0.5,
        min_lr: 0.02,
        ..PlateauConfig::new(0.1)
    };
    let mut plateau = config.init().unwrap();
    // Improves, then three epochs without significant improvement (1e-4 relative).
    let script = [
        (1.0, 0.1),
        (0.9, 0.1),
        (0.89995, 0.1), // better by less than 1e-4 · 0.9: a bad epoch
        (0.95, 0.1),
        (0.91, 0.05), // third bad epoch > patience 2: reduce
        (0.92, 0.05), // cooldown: not counted
        (0.93, 0.05),
        (0.94, 0.05),
        (0.95, 0.025), // reduce again
        (0.96, 0.025), // cooldown
        (0.97, 0.025),
        (0.98, 0.025),
        (0.99, 0.02), // clamped at min_lr
    ];
    for (epoch, (metric, lr)) in script.iter().enumerate() {
        let got = plateau.step(*metric).unwrap();
        assert!(close(got, *lr), "epoch {epoch}: lr {got}, expected {lr}");
    }
    assert!(close(plateau.best(), 0.9));
    assert!(matches!(
        plateau.step(f64::NAN),
        Err(Error::NonFiniteMetric { .. })
    ));
    // Max mode with an absolute threshold.
    let mut accuracy = PlateauConfig {
        mode: PlateauMode::Max,
        threshold_mode: ThresholdMode::Abs,
        threshold: 0.01,
        patience: 0,
        ..PlateauConfig::new(1.0)
    }
    .init()
    .unwrap();
    assert!(close(accuracy.step(0.5).unwrap(), 1.0));
    assert!(close(accuracy.step(0.52).unwrap(), 1.0));
    assert!(
        close(accuracy.step(0.525).unwrap(), 0.1),
        "+0.005 is below the absolute threshold"
    );
}

#[derive(Module, Debug)]
struct Pair {
    a: Param<Tensor<1>>,
    b: Param<Tensor<2>>,
}

fn pair(device: &Device, a: &[f64], b: &[f64]) -> Pair {
    Pair {
        a: Param::from_tensor(Tensor::from_data(
            TensorData::new(a.to_vec(), [a.len()]),
            (device, DType::F64),
        )),
        b: Param::from_tensor(Tensor::from_data(
            TensorData::new(b.to_vec(), [1, b.len()]),
            (device, DType::F64),
        )),
    }
}

fn grads_of(model: &Pair, a: &[f64], b: &[f64]) -> GradientsParams {
    let device = model.a.val().device();
    let mut grads = GradientsParams::new();
    grads.register(
        model.a.id,
        Tensor::<1>::from_data(
            TensorData::new(a.to_vec(), [a.len()]),
            (&device, DType::F64),
        ),
    );
    grads.register(
        model.b.id,
        Tensor::<2>::from_data(
            TensorData::new(b.to_vec(), [1, b.len()]),
            (&device, DType::F64),
        ),
    );
    grads
}

fn flat(model: &Pair) -> Vec<f64> {
    let mut v: Vec<f64> = model.a.val().to_data().iter::<f64>().collect();
    v.extend(model.b.val().to_data().iter::<f64>());
    v
}

#[test]
fn clipping_by_global_norm_and_by_value() {
    let device = Backend::Flex.autodiff_device();
    let model = pair(&device, &[0.0, 0.0], &[0.0]);
    // ‖(3, 4, 12)‖ = 13.
    let grads = grads_of(&model, &[3.0, 4.0], &[12.0]);
    assert!(close(global_norm(&model, &grads), 13.0));
    let (clipped, before) = GradClipping::Norm { max_norm: 6.5 }
        .clip(&model, grads)
        .unwrap();
    assert!(close(before, 13.0));
    let after = global_norm(&model, &clipped);
    assert!((after - 6.5).abs() < 1e-6, "{after}");
    let a: Vec<f64> = clipped
        .get::<1>(model.a.id)
        .unwrap()
        .to_data()
        .iter::<f64>()
        .collect();
    assert!((a[0] / a[1] - 0.75).abs() < 1e-12, "the direction is kept");
    // Under the bound: unchanged.
    let grads = grads_of(&model, &[3.0, 4.0], &[12.0]);
    let (same, _) = GradClipping::Norm { max_norm: 20.0 }
        .clip(&model, grads)
        .unwrap();
    assert!(close(global_norm(&model, &same), 13.0));
    let grads = grads_of(&model, &[3.0, -4.0], &[0.5]);
    let (clamped, _) = GradClipping::Value { max: 1.0 }
        .clip(&model, grads)
        .unwrap();
    let a: Vec<f64> = clamped
        .get::<1>(model.a.id)
        .unwrap()
        .to_data()
        .iter::<f64>()
        .collect();
    let b: Vec<f64> = clamped
        .get::<2>(model.b.id)
        .unwrap()
        .to_data()
        .iter::<f64>()
        .collect();
    assert_eq!((a, b), (vec![1.0, -1.0], vec![0.5]));
    let grads = grads_of(&model, &[f64::NAN, 0.0], &[1.0]);
    assert!(matches!(
        GradClipping::Norm { max_norm: 1.0 }.clip(&model, grads),
        Err(Error::NonFiniteGradient { .. })
    ));
}

#[test]
fn clipping_on_the_device_matches_the_host_clipping() {
    let device = Backend::Flex.autodiff_device();
    let model = pair(&device, &[0.0, 0.0], &[0.0]);
    let values = |g: &GradientsParams| -> Vec<f64> {
        let mut v: Vec<f64> = g
            .get::<1>(model.a.id)
            .unwrap()
            .to_data()
            .iter::<f64>()
            .collect();
        v.extend(g.get::<2>(model.b.id).unwrap().to_data().iter::<f64>());
        v
    };
    for clipping in [
        GradClipping::Norm { max_norm: 6.5 },
        GradClipping::Norm { max_norm: 20.0 },
        GradClipping::Value { max: 1.0 },
    ] {
        let host = clipping
            .clip(&model, grads_of(&model, &[3.0, -4.0], &[12.0]))
            .unwrap()
            .0;
        let on_device = clipping
            .clip_on_device(&model, grads_of(&model, &[3.0, -4.0], &[12.0]))
            .unwrap();
        for (h, d) in values(&host).iter().zip(values(&on_device)) {
            // The device norm is summed in f32.
            assert!(
                (h - d).abs() < 1e-6 * h.abs().max(1.0),
                "{clipping:?}: {h} vs {d}"
            );
        }
    }
    // Under the bound the gradients are multiplied by exactly 1.
    let kept = GradClipping::Norm { max_norm: 20.0 }
        .clip_on_device(&model, grads_of(&model, &[3.0, -4.0], &[12.0]))
        .unwrap();
    assert_eq!(values(&kept), vec![3.0, -4.0, 12.0]);
}

/// A deterministic gradient sequence that depends on the parameters (so state matters).
fn gradient_at(model: &Pair, step: usize) -> GradientsParams {
    let p = flat(model);
    let s = step as f64;
    grads_of(
        model,
        &[p[0] - 0.3 * s.sin(), 2.0 * p[1] + 0.1 * s],
        &[(p[2] * p[2]) - 0.5 + 0.01 * s.cos()],
    )
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cortex-optim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn resuming_from_saved_state_is_bit_identical() {
    let configs = [
        OptimizerConfig::Sgd(
            SgdConfig::new()
                .with_lr(0.1)
                .with_momentum(0.9)
                .with_nesterov(true)
                .with_weight_decay(0.01),
        ),
        OptimizerConfig::Adam(AdamConfig::new().with_lr(0.05).with_amsgrad(true)),
        OptimizerConfig::AdamW(AdamWConfig::new().with_lr(0.05)),
        OptimizerConfig::RmsProp(RmsPropConfig::new().with_centered(true).with_momentum(0.5)),
        OptimizerConfig::Adagrad(
            AdagradConfig::new()
                .with_lr(0.1)
                .with_lr_decay(0.01)
                .with_initial_accumulator_value(0.1),
        ),
    ];
    for backend in Backend::selected_from_env().unwrap() {
        let device = backend.autodiff_device();
        for (k, config) in configs.iter().enumerate() {
            let schedule = LrSchedule::Exponential {
                lr: config.lr(),
                gamma: 0.9,
            };
            let run = |model: Pair, optim: &mut Optim, steps: std::ops::Range<usize>| {
                let mut model = model;
                for step in steps {
                    optim.set_lr(schedule.lr(step)).unwrap();
                    let grads = gradient_at(&model, step);
                    model = optim.step(model, grads).unwrap();
                }
                model
            };
            let start = || pair(&device, &[0.5, -1.0], &[2.0]);
            let mut straight = config.init().unwrap();
            let uninterrupted = run(start(), &mut straight, 0..8);
            // Stop after 3 steps, save model and optimizer, resume in fresh objects.
            let mut first = config.init().unwrap();
            let halfway = run(start(), &mut first, 0..3);
            let (model_path, optim_path) = (
                scratch(&format!("model{k}.bpk")),
                scratch(&format!("optim{k}.bpk")),
            );
            halfway.clone().save_file(&model_path).unwrap();
            first.save(&optim_path).unwrap();
            let restored = pair(&device, &[0.0, 0.0], &[0.0]).load_file(&model_path);
            let mut resumed_optim = config.init().unwrap().load(&optim_path).unwrap();
            let resumed = run(restored, &mut resumed_optim, 3..8);
            let (a, b) = (flat(&uninterrupted), flat(&resumed));
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&a),
                bits(&b),
                "{config:?} on {backend}: {a:?} vs {b:?}"
            );
        }
    }
    let corrupt = scratch("corrupt.bpk");
    std::fs::write(&corrupt, b"junk").unwrap();
    let optim = OptimizerConfig::Sgd(SgdConfig::new()).init().unwrap();
    assert!(matches!(
        optim.clone().load(&corrupt),
        Err(Error::Load { .. })
    ));
    assert!(matches!(
        optim.clone().load(scratch("absent.bpk")),
        Err(Error::Load { .. })
    ));
    // A module on a plain device is an error, not burn's panic.
    let plain = pair(&Backend::Flex.device(), &[1.0, 2.0], &[3.0]);
    let grads = grads_of(&plain, &[1.0, 1.0], &[1.0]);
    assert_eq!(
        optim.clone().step(plain, grads).unwrap_err(),
        Error::NotAutodiff
    );
}
