//! Helpers shared by the trainer's test files.

use cortex_nn::Mlp;

/// Every weight and bias of `model`, layer by layer, as f32 bit patterns (for bit-for-bit
/// comparisons).
pub fn parameter_bits(model: &Mlp) -> Vec<u32> {
    model
        .layers()
        .iter()
        .flat_map(|l| {
            let mut v: Vec<f32> = l.weight.val().to_data().iter::<f32>().collect();
            if let Some(bias) = &l.bias {
                v.extend(bias.val().to_data().iter::<f32>());
            }
            v
        })
        .map(f32::to_bits)
        .collect()
}
