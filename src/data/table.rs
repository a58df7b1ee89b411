//! What the network learns: the truth tables, held as a [`Table`] of rows, and the loader that
//! hands them to Burn's Learner as [`XyBatch`]es.
//!
//! The loader is gatenet's own [`DataLoader`] rather than Burn's `DataLoaderBuilder`: each
//! epoch's row order is derived from the seed and the epoch number (Burn's shuffles from one
//! long-lived generator, which a resumed run cannot replay), and a full batch is built once and
//! reused instead of being re-assembled row by row every epoch.

use crate::config::Gate;
use crate::data::rng::SplitMix64;
use burn::data::dataloader::{DataLoader, DataLoaderIterator, Progress};
use burn::data::dataset::DatasetError;
use burn::tensor::{Device, Tensor, TensorData};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

impl Gate {
    fn output(self, bits: &[bool]) -> bool {
        let ones = bits.iter().filter(|&&b| b).count();
        match self {
            Self::And => ones == bits.len(),
            Self::Or => ones > 0,
            Self::Nand => ones < bits.len(),
            Self::Nor => ones == 0,
            Self::Xor => ones % 2 == 1,
            Self::Xnor => ones % 2 == 0,
            Self::Majority => 2 * ones > bits.len(),
        }
    }

    /// The truth table over `inputs` inputs, rows counting up in binary with the first input
    /// as the most significant bit: 00, 01, 10, 11 for two inputs.
    pub fn table(self, inputs: usize) -> Table {
        let mut table = Table::new(inputs, 1);
        for row in 0..1usize << inputs {
            let bits: Vec<bool> = (0..inputs).map(|i| row >> (inputs - 1 - i) & 1 == 1).collect();
            let values: Vec<f32> = bits.iter().map(|&b| if b { 1.0 } else { 0.0 }).collect();
            table.push(&values, &[if self.output(&bits) { 1.0 } else { 0.0 }]);
        }
        table
    }
}

/// Rows of inputs and targets, stored row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub input_width: usize,
    pub target_width: usize,
    pub inputs: Vec<f32>,
    pub targets: Vec<f32>,
}

impl Table {
    pub fn new(input_width: usize, target_width: usize) -> Table {
        Table { input_width, target_width, inputs: Vec::new(), targets: Vec::new() }
    }

    pub fn push(&mut self, inputs: &[f32], targets: &[f32]) {
        self.inputs.extend_from_slice(inputs);
        self.targets.extend_from_slice(targets);
    }

    pub fn rows(&self) -> usize {
        self.inputs.len() / self.input_width
    }

    pub fn input_row(&self, row: usize) -> &[f32] {
        &self.inputs[row * self.input_width..(row + 1) * self.input_width]
    }

    pub fn target_row(&self, row: usize) -> &[f32] {
        &self.targets[row * self.target_width..(row + 1) * self.target_width]
    }

    /// The rows in a random order (drawn from `seed`), split into all but the last
    /// `held_out` rows and those last rows.
    pub fn shuffled_split(&self, held_out: usize, seed: u64) -> (Table, Table) {
        let mut order: Vec<usize> = (0..self.rows()).collect();
        let mut rng = SplitMix64::new(seed ^ 0x0005_B117);
        for i in (1..order.len()).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        let (mut train, mut valid) = (
            Table::new(self.input_width, self.target_width),
            Table::new(self.input_width, self.target_width),
        );
        let cut = order.len().saturating_sub(held_out);
        for (k, &row) in order.iter().enumerate() {
            let part = if k < cut { &mut train } else { &mut valid };
            part.push(self.input_row(row), self.target_row(row));
        }
        (train, valid)
    }

    /// The given rows as one batch on `device`.
    pub fn batch(&self, rows: &[usize], device: &Device) -> XyBatch {
        let gather = |width: usize, row: fn(&Table, usize) -> &[f32]| {
            let values: Vec<f32> = rows.iter().flat_map(|&r| row(self, r).iter().copied()).collect();
            Tensor::<2>::from_data(TensorData::new(values, [rows.len(), width]), device)
        };
        XyBatch {
            inputs: gather(self.input_width, Table::input_row),
            targets: gather(self.target_width, Table::target_row),
        }
    }
}

/// One batch: `inputs` is `[rows, input_width]`, `targets` is `[rows, target_width]`.
#[derive(Clone, Debug)]
pub struct XyBatch {
    pub inputs: Tensor<2>,
    pub targets: Tensor<2>,
}

/// Serves a [`Table`] in batches, reshuffled each epoch when the batches are smaller than the
/// table.
pub struct XyLoader {
    table: Arc<Table>,
    batch_size: usize,
    seed: u64,
    shuffle: bool,
    device: Device,
    /// The epoch whose order the next `iter()` serves: Burn calls `iter()` once per epoch.
    next_epoch: AtomicUsize,
    /// The whole table as one batch, when that is what every epoch serves.
    full_batch: Option<XyBatch>,
}

impl XyLoader {
    /// A loader whose first `iter()` serves epoch `first_epoch` (1 for a new run).
    pub fn new(
        table: Arc<Table>,
        batch_size: usize,
        seed: u64,
        shuffle: bool,
        first_epoch: usize,
        device: &Device,
    ) -> XyLoader {
        let all: Vec<usize> = (0..table.rows()).collect();
        let full_batch = (batch_size >= table.rows()).then(|| table.batch(&all, device));
        XyLoader {
            table,
            batch_size: batch_size.max(1),
            seed,
            shuffle,
            device: device.clone(),
            next_epoch: AtomicUsize::new(first_epoch),
            full_batch,
        }
    }

    /// The row order of an epoch: a Fisher-Yates shuffle seeded by (seed, epoch) alone.
    fn order(&self, epoch: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.table.rows()).collect();
        if self.shuffle && self.full_batch.is_none() {
            let mut rng = SplitMix64::new(self.seed ^ (epoch as u64).wrapping_mul(0xA24B_AED4_963E_E407));
            for i in (1..order.len()).rev() {
                let j = (rng.next_u64() % (i as u64 + 1)) as usize;
                order.swap(i, j);
            }
        }
        order
    }
}

impl DataLoader<XyBatch> for XyLoader {
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<XyBatch> + 'a> {
        let epoch = self.next_epoch.fetch_add(1, Ordering::Relaxed);
        let order = if self.full_batch.is_some() { Vec::new() } else { self.order(epoch) };
        Box::new(XyIter { loader: self, order, served: 0 })
    }

    fn num_items(&self) -> usize {
        self.table.rows()
    }

    fn to_device(&self, device: &Device) -> Arc<dyn DataLoader<XyBatch>> {
        let first_epoch = self.next_epoch.load(Ordering::Relaxed);
        Arc::new(XyLoader::new(
            self.table.clone(),
            self.batch_size,
            self.seed,
            self.shuffle,
            first_epoch,
            device,
        ))
    }

    fn slice(&self, start: usize, end: usize) -> Arc<dyn DataLoader<XyBatch>> {
        let mut part = Table::new(self.table.input_width, self.table.target_width);
        for row in start..end.min(self.table.rows()) {
            part.push(self.table.input_row(row), self.table.target_row(row));
        }
        let first_epoch = self.next_epoch.load(Ordering::Relaxed);
        Arc::new(XyLoader::new(
            Arc::new(part),
            self.batch_size,
            self.seed,
            self.shuffle,
            first_epoch,
            &self.device,
        ))
    }
}

struct XyIter<'a> {
    loader: &'a XyLoader,
    order: Vec<usize>,
    served: usize,
}

impl Iterator for XyIter<'_> {
    type Item = Result<XyBatch, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rows = self.loader.table.rows();
        if self.served >= rows {
            return None;
        }
        let batch = match &self.loader.full_batch {
            Some(batch) => batch.clone(),
            None => {
                let end = (self.served + self.loader.batch_size).min(rows);
                self.loader.table.batch(&self.order[self.served..end], &self.loader.device)
            }
        };
        self.served = (self.served + self.loader.batch_size).min(rows);
        Some(Ok(batch))
    }
}

impl DataLoaderIterator<XyBatch> for XyIter<'_> {
    fn progress(&self) -> Progress {
        Progress::new(self.served, self.loader.table.rows(), Some("rows".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truth_tables_list_rows_00_01_10_11() {
        let outputs = |gate: Gate| gate.table(2).targets;
        assert_eq!(outputs(Gate::Or), [0.0, 1.0, 1.0, 1.0]);
        assert_eq!(outputs(Gate::And), [0.0, 0.0, 0.0, 1.0]);
        assert_eq!(outputs(Gate::Xor), [0.0, 1.0, 1.0, 0.0]);
        assert_eq!(outputs(Gate::Xnor), [1.0, 0.0, 0.0, 1.0]);
        assert_eq!(outputs(Gate::Nand), [1.0, 1.0, 1.0, 0.0]);
        assert_eq!(outputs(Gate::Nor), [1.0, 0.0, 0.0, 0.0]);
        assert_eq!(Gate::Or.table(2).inputs, [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0]);
    }

    #[test]
    fn three_input_parity_and_majority_count_the_ones() {
        assert_eq!(Gate::Xor.table(3).targets, [0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0]);
        assert_eq!(Gate::Majority.table(3).targets, [0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0]);
        assert_eq!(Gate::And.table(4).rows(), 16);
        assert_eq!(&Gate::Or.table(3).inputs[3..6], [0.0, 0.0, 1.0], "row 1 is 001");
    }

    #[test]
    fn an_epochs_order_depends_only_on_seed_and_epoch() {
        let device = Device::default();
        let loader = |first| XyLoader::new(Arc::new(Gate::Xor.table(2)), 1, 5, true, first, &device);
        let (a, b) = (loader(1), loader(7));
        assert_eq!(a.order(7), b.order(7));
        let mut sorted = a.order(3);
        sorted.sort();
        assert_eq!(sorted, [0, 1, 2, 3]);
        assert!((1..20).any(|e| a.order(e) != a.order(e + 1)), "orders change between epochs");
    }
}
