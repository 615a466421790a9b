use cortex::burn::tensor::{Device, Distribution, Tensor};
use std::time::Instant;
fn main() {
    let device = Device::flex().autodiff();
    let (b, t, h) = (64, 28, 128);
    for lstm in [true, false] {
        let g = if lstm { 4 } else { 3 };
        let w = Tensor::<2>::random([g * h, h], Distribution::Uniform(-0.1, 0.1), &device)
            .require_grad();
        let bias =
            Tensor::<1>::random([g * h], Distribution::Uniform(-0.1, 0.1), &device).require_grad();
        let (mut best_f, mut best_b) = (f64::MAX, f64::MAX);
        for rep in 0..40 {
            let xw = Tensor::<3>::random([b, t, g * h], Distribution::Uniform(-1.0, 1.0), &device)
                .require_grad();
            let z = Tensor::<2>::zeros([b, h], &device);
            let t0 = Instant::now();
            let out = if lstm {
                cortex::autodiff::fused_lstm(
                    xw.clone(),
                    w.clone(),
                    Some(bias.clone()),
                    z.clone(),
                    z,
                    false,
                )
                .unwrap()
                .h
            } else {
                cortex::autodiff::fused_gru(xw.clone(), w.clone(), Some(bias.clone()), z, false)
                    .unwrap()
                    .h
            };
            let s = out.clone().sum();
            let _ = s.clone().into_scalar::<f32>();
            let t1 = Instant::now();
            let grads = s.backward();
            let _ = w.grad(&grads).unwrap().sum().into_scalar::<f32>();
            let t2 = Instant::now();
            if rep > 2 {
                best_f = best_f.min((t1 - t0).as_secs_f64() * 1e3);
                best_b = best_b.min((t2 - t1).as_secs_f64() * 1e3);
            }
        }
        println!(
            "{} best fwd {:.2} ms bwd {:.2} ms",
            if lstm { "lstm" } else { "gru" },
            best_f,
            best_b
        );
    }
}
