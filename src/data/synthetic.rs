//! The 2-D datasets TensorFlow Playground made familiar (`data.synthetic`): circle, xor,
//! gauss, spiral and moons, each a cloud of labelled points drawn from the seed, with noise.
//! Coordinates are scaled to about [-1, 1], where tanh and sigmoid units work best.

use crate::config::Synthetic;
use crate::data::rng::SplitMix64;
use crate::data::table::Table;
use std::f64::consts::PI;

impl Synthetic {
    /// `samples` points, half of each label, in a fixed order for a given seed. `noise` in
    /// [0, 1] blurs the classes: a share of the data's radius for circle, xor and spiral, the
    /// blobs' spread for gauss, the standard deviation of a jitter for moons.
    pub fn table(self, samples: usize, noise: f64, seed: u64) -> Table {
        let mut rng = SplitMix64::new(seed ^ 0x5EED_DA7A);
        let mut table = Table::new(2, 1);
        let uniform = |rng: &mut SplitMix64, low: f64, high: f64| low + (high - low) * rng.unit();
        for i in 0..samples {
            let label = i % 2;
            let (x, y) = match self {
                Self::Circle => {
                    // Radius 5 as in TensorFlow Playground: inside 0 to 2.5, the ring 3.5 to 5.
                    let r =
                        if label == 1 { uniform(&mut rng, 0.0, 2.5) } else { uniform(&mut rng, 3.5, 5.0) };
                    let angle = uniform(&mut rng, 0.0, 2.0 * PI);
                    let jitter = 5.0 * noise;
                    let (dx, dy) = (uniform(&mut rng, -jitter, jitter), uniform(&mut rng, -jitter, jitter));
                    ((r * angle.sin() + dx) / 5.0, (r * angle.cos() + dy) / 5.0)
                }
                Self::Xor => {
                    // Away from the axes by 0.3, as TensorFlow Playground pads them.
                    let pad = |v: f64| if v > 0.0 { v + 0.3 } else { v - 0.3 };
                    let (mut x, mut y) =
                        (pad(uniform(&mut rng, -5.0, 5.0)), pad(uniform(&mut rng, -5.0, 5.0)));
                    if (x * y > 0.0) != (label == 1) {
                        y = -y; // put the point in a quadrant of its label
                    }
                    let jitter = 5.0 * noise;
                    x += uniform(&mut rng, -jitter, jitter);
                    y += uniform(&mut rng, -jitter, jitter);
                    (x / 5.0, y / 5.0)
                }
                Self::Gauss => {
                    let centre = if label == 1 { 2.0 } else { -2.0 };
                    let spread = (0.5 + 3.5 * noise).sqrt(); // variance 0.5 to 4, as the Playground
                    ((centre + spread * rng.normal()) / 5.0, (centre + spread * rng.normal()) / 5.0)
                }
                Self::Spiral => {
                    let t = uniform(&mut rng, 0.0, 1.0);
                    let r = 5.0 * t;
                    let angle = 1.75 * 2.0 * PI * t + if label == 1 { 0.0 } else { PI };
                    let jitter = 5.0 * noise;
                    let (dx, dy) = (uniform(&mut rng, -jitter, jitter), uniform(&mut rng, -jitter, jitter));
                    ((r * angle.sin() + dx) / 5.0, (r * angle.cos() + dy) / 5.0)
                }
                Self::Moons => {
                    let t = uniform(&mut rng, 0.0, PI);
                    let (x, y) = if label == 0 { (t.cos(), t.sin()) } else { (1.0 - t.cos(), 0.5 - t.sin()) };
                    // Centred on the origin; the moons span x in [-1, 2], y in [-0.5, 1].
                    ((x - 0.5 + noise * rng.normal()) / 1.5, (y - 0.25 + noise * rng.normal()) / 1.5)
                }
            };
            table.push(&[x as f32, y as f32], &[label as f32]);
        }
        table
    }
}
