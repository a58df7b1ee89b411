//! How a layer's first weights are drawn (`model.init`), from gatenet's own seeded generator.
//!
//! The numbers come from SplitMix64 on the host, not from a backend's RNG, so the same seed gives
//! the same starting network on every backend and in every Burn version: a run is reproducible
//! bit for bit, and runs on different backends start from the same point.

use serde::{Deserialize, Serialize};

/// The initialisation scheme for every Linear layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// W and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)): torch.nn.Linear's default, and the bound of
    /// Burn's default Kaiming-uniform (gain 1/sqrt(3)).
    Default,
    /// W ~ N(0, 0.01^2), b = 0: the setting of the numpy question that started this project.
    Small,
    /// W ~ U(-a, a) with a = sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio, 2010), b = 0.
    Xavier,
}

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

/// SplitMix64 (Steele, Lea and Flood, 2014): tiny, fast, and fixed forever, unlike a library
/// generator whose stream may change between versions.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn uniform(&mut self, low: f64, high: f64) -> f32 {
        (low + (high - low) * self.unit()) as f32
    }

    /// Standard normal by Box-Muller (one of the pair is used, for simplicity).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // in (0, 1], so the log is finite
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
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

crate::display_by_name!(Init);
