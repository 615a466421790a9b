//! The checker itself: it must flag a wrong gradient (with the right index), pass a right one,
//! refuse f32 module parameters, check in f32 where asked, and pass every registered case in
//! fast mode.

use burn::tensor::{DType, Tensor, TensorData};
use cortex_autodiff::{Error, GradCheck, Input, InvalidValue, op_cases, value_and_grad};
use cortex_core::Backend;

fn devices() -> Vec<burn::tensor::Device> {
    Backend::selected_from_env()
        .expect("CORTEX_BACKEND")
        .into_iter()
        .map(Backend::autodiff_device)
        .collect()
}

/// `f(x) = x²` elementwise, but element `bad` goes through a detached copy of `x`, so
/// autodiff sees `x_bad · const` and reports `x_bad` instead of `2 x_bad`: a backward that is
/// off by a factor of 2 at exactly one index.
fn square_with_broken_element(x: Tensor<2>, bad: [usize; 2]) -> Tensor<2> {
    let [rows, cols] = x.dims();
    let mut mask = vec![false; rows * cols];
    mask[bad[0] * cols + bad[1]] = true;
    let mask = Tensor::<2, burn::tensor::Bool>::from_data(
        TensorData::new(mask, [rows, cols]),
        &x.device(),
    );
    let partner = x.clone().mask_where(mask, x.clone().detach());
    x.mul(partner)
}

/// `x` of shape `[3, 4]` with values 0.5, 0.6, …, 1.6.
fn ramp() -> Input {
    Input::new(
        "x",
        &[3, 4],
        (0..12).map(|i| 0.5 + 0.1 * i as f64).collect(),
    )
    .unwrap()
}

#[test]
fn a_wrong_gradient_is_flagged_at_its_index() {
    let x = ramp();
    for device in devices() {
        let report = GradCheck::default()
            .check(&device, std::slice::from_ref(&x), |args| {
                Ok(square_with_broken_element(args.get::<2>(0)?, [1, 2]))
            })
            .unwrap();
        assert!(
            !report.passed(),
            "the checker missed a wrong gradient: {report}"
        );
        let worst = &report.inputs[0].worst;
        assert_eq!(worst.index, vec![1, 2]);
        // x[1, 2] = 0.5 + 0.1 * 6 = 1.1: numeric 2 * 1.1 * v, analytic 1.1 * v (ratio 2).
        assert!(
            (worst.numeric / worst.analytic - 2.0).abs() < 1e-6,
            "{worst:?}"
        );
        assert!(matches!(report.into_result(), Err(Error::Mismatch(_))));

        let fast = GradCheck::fast()
            .check(&device, std::slice::from_ref(&x), |args| {
                Ok(square_with_broken_element(args.get::<2>(0)?, [1, 2]))
            })
            .unwrap();
        assert!(!fast.passed(), "fast mode missed a wrong gradient: {fast}");
    }
}

#[test]
fn a_correct_gradient_passes() {
    let x = ramp();
    for device in devices() {
        for checker in [GradCheck::default(), GradCheck::fast()] {
            let report = checker
                .check(&device, std::slice::from_ref(&x), |args| {
                    let x = args.get::<2>(0)?;
                    Ok(x.clone().mul(x))
                })
                .unwrap();
            assert!(report.passed(), "{report}");
            assert!(report.max_abs_err() < 1e-7, "{report}");
        }
    }
}

/// The f32 check (for devices without f64) still flags a gradient off by a factor of two,
/// at its index, passes the right one, and really computes in f32 (its errors are f32-sized).
#[test]
fn the_f32_check_flags_a_wrong_gradient_and_passes_a_right_one() {
    let x = ramp();
    for device in devices() {
        let checker = GradCheck::f32();
        let wrong = checker
            .check(&device, std::slice::from_ref(&x), |args| {
                Ok(square_with_broken_element(args.get::<2>(0)?, [2, 1]))
            })
            .unwrap();
        assert!(!wrong.passed(), "the f32 check missed it: {wrong}");
        assert_eq!(wrong.inputs[0].worst.index, vec![2, 1]);
        let right = checker
            .check(&device, std::slice::from_ref(&x), |args| {
                let x = args.get::<2>(0)?;
                assert_eq!(x.dtype(), DType::F32);
                Ok(x.clone().mul(x))
            })
            .unwrap();
        assert!(right.passed(), "{right}");
        // x² has no third derivative: what is left is f32 rounding, far above f64's 1e-12.
        assert!(right.max_abs_err() > 1e-9, "{right}");
        assert!(right.max_abs_err() < 1e-3, "{right}");
    }
}

#[test]
fn f32_inputs_are_refused_with_the_reason() {
    let device = Backend::Flex.device();
    let x = Tensor::<1>::from_data(
        TensorData::new(vec![1.0f32, 2.0], [2]),
        (&device, DType::F32),
    );
    let err = Input::from_tensor("x", &x).unwrap_err();
    assert!(matches!(err, Error::NotF64 { ref input, .. } if input == "x"));
    assert!(err.to_string().contains("need f64"), "{err}");
}

#[test]
fn bad_options_are_errors() {
    let x = Input::new("x", &[1], vec![1.0]).unwrap();
    let checker = GradCheck {
        eps: 0.0,
        ..GradCheck::default()
    };
    let result = checker.check(&Backend::Flex.device(), &[x], |args| args.get::<1>(0));
    assert!(matches!(
        result,
        Err(Error::InvalidOption(InvalidValue {
            argument: "eps",
            ..
        }))
    ));
    assert!(matches!(
        Input::new("x", &[2, 2], vec![1.0]),
        Err(Error::InvalidOption(_))
    ));
}

#[test]
fn every_registered_case_passes_in_fast_mode() {
    let cases = op_cases();
    assert!(cases.len() > 60, "registry shrank to {}", cases.len());
    for device in devices() {
        for case in &cases {
            let report = case.check(&GradCheck::fast(), &device).unwrap();
            assert!(report.passed(), "{}: {report}", case.name);
        }
    }
}

#[test]
fn value_and_grad_of_a_plain_function() {
    for backend in Backend::selected_from_env().unwrap() {
        let x = Tensor::<1>::from_data(
            TensorData::new(vec![0.5f64, -1.0, 2.0], [3]),
            (&backend.device(), DType::F64),
        );
        // f(x) = Σ x³ → ∇f = 3x²
        let (value, grad) =
            value_and_grad(|x| Ok(x.clone().mul(x.clone()).mul(x).sum()), x).unwrap();
        assert!((value - (0.125 - 1.0 + 8.0)).abs() < 1e-12);
        let grad: Vec<f64> = grad.to_data().iter::<f64>().collect();
        assert_eq!(grad, vec![0.75, 3.0, 12.0]);
    }
}

/// A minimal module: `y = tanh(x Wᵀ + b)` with both parameters checked.
#[derive(burn::module::Module, Debug)]
struct Affine {
    weight: burn::module::Param<Tensor<2>>,
    bias: burn::module::Param<Tensor<1>>,
}

#[test]
fn module_parameters_are_checked() {
    for device in devices() {
        let weight = Tensor::<2>::from_data(
            TensorData::new(vec![0.3, -0.2, 0.5, 0.1, 0.4, -0.6], [2, 3]),
            (&device, DType::F64),
        );
        let bias = Tensor::<1>::from_data(
            TensorData::new(vec![0.05, -0.1], [2]),
            (&device, DType::F64),
        );
        let module = Affine {
            weight: burn::module::Param::from_tensor(weight),
            bias: burn::module::Param::from_tensor(bias),
        };
        let x = Input::new(
            "x",
            &[4, 3],
            (0..12).map(|i| 0.1 * i as f64 - 0.5).collect(),
        )
        .unwrap();
        let report = GradCheck::default()
            .check_module(&device, &module, &[x], |m: &Affine, args| {
                let y = cortex_ops::linear(args.get::<2>(0)?, m.weight.val(), Some(m.bias.val()))?;
                Ok(cortex_ops::tanh(y))
            })
            .unwrap();
        assert_eq!(report.inputs.len(), 3, "x, weight and bias: {report}");
        assert_eq!(report.inputs[1].shape, vec![2, 3]);
        assert!(report.passed(), "{report}");

        // The same module with its bias cut from the graph must fail on the bias.
        let broken = GradCheck::default()
            .check_module(&device, &module, &[], |m: &Affine, _args| {
                let x = Tensor::<2>::ones([4, 3], (&device, DType::F64));
                let y = cortex_ops::linear(x, m.weight.val(), Some(m.bias.val().detach()))?;
                Ok(cortex_ops::tanh(y))
            })
            .unwrap();
        assert!(
            broken.inputs[0].passed && !broken.inputs[1].passed,
            "{broken}"
        );
    }
}
