//! The optimizer and learning-rate schedule named in `[optimizer]`, mapped onto Burn's configs.
//! The learning rate itself enters Burn only through the schedule handed to `Learner::new`.

use crate::config::OptimizerSection;
use crate::config::{OptimizerName, Schedule};
use burn::lr_scheduler::cosine::CosineAnnealingLrSchedulerConfig;
use burn::lr_scheduler::exponential::ExponentialLrSchedulerConfig;
use burn::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::lr_scheduler::step::StepLrSchedulerConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer, RmsPropConfig, SgdConfig};

/// Burn's optimizer for the section. Burn's defaults that differ from torch's are overridden
/// on purpose: Adam's epsilon (1e-5 in Burn, 1e-8 in torch and the numpy reference), SGD
/// momentum's dampening (0.1 in Burn, 0 in torch) and RMSprop's momentum (0.9 in Burn, 0 in torch).
pub fn optimizer(section: &OptimizerSection) -> ModuleOptimizer {
    let decay = (section.weight_decay > 0.0).then(|| WeightDecayConfig::new(section.weight_decay as f32));
    let epsilon = section.epsilon.unwrap_or(1e-8) as f32;
    let beta1 = section.beta1.unwrap_or(0.9) as f32;
    let beta2 = section.beta2.unwrap_or(0.999) as f32;
    let momentum = section.momentum.unwrap_or(0.0);
    match section.name {
        OptimizerName::Sgd => SgdConfig::new()
            .with_weight_decay(decay)
            .with_momentum((momentum > 0.0).then_some(MomentumConfig {
                momentum,
                dampening: 0.0,
                nesterov: false,
            }))
            .init(),
        OptimizerName::Adam => AdamConfig::new()
            .with_beta_1(beta1)
            .with_beta_2(beta2)
            .with_epsilon(epsilon)
            .with_weight_decay(decay)
            .init(),
        OptimizerName::AdamW => AdamWConfig::new()
            .with_beta_1(beta1)
            .with_beta_2(beta2)
            .with_epsilon(epsilon)
            .with_weight_decay(section.weight_decay as f32)
            .init(),
        OptimizerName::RmsProp => RmsPropConfig::new()
            .with_momentum(momentum as f32)
            .with_epsilon(epsilon)
            .with_weight_decay(decay)
            .init(),
    }
}

/// The learning-rate schedule. Burn's schedulers count optimizer steps, so epochs are converted
/// with `steps_per_epoch`.
pub fn schedule(
    section: &OptimizerSection,
    num_epochs: usize,
    steps_per_epoch: usize,
) -> Result<ModuleLrScheduler, String> {
    let lr = section.learning_rate;
    match section.schedule {
        Schedule::Constant => Ok(lr.into()),
        Schedule::Cosine => {
            CosineAnnealingLrSchedulerConfig::new(lr, num_epochs.saturating_mul(steps_per_epoch))
                .with_min_lr(section.min_learning_rate.unwrap_or(0.0))
                .init()
        }
        Schedule::Step => {
            let step_epochs =
                section.step_epochs.ok_or("optimizer.step_epochs: schedule = \"step\" needs step_epochs")?;
            StepLrSchedulerConfig::new(lr, step_epochs.saturating_mul(steps_per_epoch))
                .with_gamma(section.gamma.unwrap_or(0.1))
                .init()
        }
        Schedule::Exponential => {
            // gamma is per epoch; spread it over the epoch's steps.
            let per_step = section.gamma.unwrap_or(0.99).powf(1.0 / steps_per_epoch as f64);
            ExponentialLrSchedulerConfig::new(lr, per_step).init()
        }
    }
}
