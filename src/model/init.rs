//! How a layer's first weights are drawn (`model.init`), from gatenet's own seeded generator.
//!
//! The numbers come from SplitMix64 on the host, not from a backend's RNG, so the same seed gives
//! the same starting network on every backend and in every Burn version: a run is reproducible
//! bit for bit, and runs on different backends start from the same point.

use crate::config::Init;
use crate::data::rng::SplitMix64;

impl Init {
    /// Draws one layer: the weights as `[fan_in, fan_out]` in row-major order (Burn's Linear
    /// layout), then the biases `[fan_out]`.
    pub fn layer(self, fan_in: usize, fan_out: usize, rng: &mut SplitMix64) -> (Vec<f32>, Vec<f32>) {
        let n = fan_in * fan_out;
        match self {
            Self::Default => {
                let bound = 1.0 / (fan_in as f64).sqrt();
                let weights = (0..n).map(|_| rng.uniform(-bound, bound)).collect();
                let biases = (0..fan_out).map(|_| rng.uniform(-bound, bound)).collect();
                (weights, biases)
            }
            Self::Small => {
                let weights = (0..n).map(|_| (0.01 * rng.normal()) as f32).collect();
                (weights, vec![0.0; fan_out])
            }
            Self::Xavier => {
                let bound = (6.0 / (fan_in + fan_out) as f64).sqrt();
                let weights = (0..n).map(|_| rng.uniform(-bound, bound)).collect();
                (weights, vec![0.0; fan_out])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_layer() {
        let a = Init::Default.layer(2, 6, &mut SplitMix64::new(7));
        let b = Init::Default.layer(2, 6, &mut SplitMix64::new(7));
        assert_eq!(a, b);
    }

    #[test]
    fn default_init_stays_within_one_over_sqrt_fan_in() {
        let (w, b) = Init::Default.layer(4, 50, &mut SplitMix64::new(1));
        assert!(w.iter().chain(&b).all(|v| v.abs() <= 0.5));
        assert!(w.iter().any(|v| v.abs() > 0.4), "the whole range is used");
    }

    #[test]
    fn small_init_has_standard_deviation_near_one_hundredth_and_zero_biases() {
        let (w, b) = Init::Small.layer(100, 100, &mut SplitMix64::new(3));
        let var = w.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / w.len() as f64;
        assert!((var.sqrt() - 0.01).abs() < 0.0005, "std {}", var.sqrt());
        assert!(b.iter().all(|v| *v == 0.0));
    }
}
