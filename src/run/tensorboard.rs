//! The metrics as a TensorBoard event file (`tensorboard/` in the run folder), so that
//! `tensorboard --logdir artifacts` shows every run side by side: one scalar series per
//! metrics.csv column, its step the epoch.
//!
//! The format is TensorFlow's TFRecord framing (length, masked CRC-32C of the length, the
//! bytes, their masked CRC-32C) around `Event` protobufs (tensorflow/core/util/event.proto),
//! written here because no maintained Rust crate writes it: the messages are three, declared
//! for prost below. A resumed run keeps the records of the epochs up to its checkpoint and
//! drops later ones, so each step has exactly one value, as in metrics.csv.

use crate::run::atomic::write_atomic;
use prost::Message;
use std::io::Write;
use std::path::Path;

/// `tensorflow.Event`.
#[derive(Clone, PartialEq, prost::Message)]
struct Event {
    #[prost(double, tag = "1")]
    wall_time: f64,
    #[prost(int64, tag = "2")]
    step: i64,
    #[prost(oneof = "What", tags = "3, 5")]
    what: Option<What>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum What {
    /// The first record of every event file: "brain.Event:2".
    #[prost(string, tag = "3")]
    FileVersion(String),
    #[prost(message, tag = "5")]
    Summary(Summary),
}

/// `tensorflow.Summary`.
#[derive(Clone, PartialEq, prost::Message)]
struct Summary {
    #[prost(message, repeated, tag = "1")]
    value: Vec<Value>,
}

/// `tensorflow.Summary.Value`. `simple_value` sits in a oneof, so that 0.0 is written (a
/// plain proto3 float of 0 would be left out, and TensorBoard would see no value).
#[derive(Clone, PartialEq, prost::Message)]
struct Value {
    #[prost(string, tag = "1")]
    tag: String,
    #[prost(oneof = "Kind", tags = "2")]
    kind: Option<Kind>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum Kind {
    #[prost(float, tag = "2")]
    SimpleValue(f32),
}

/// An event file open for appending one record per epoch.
pub struct Events {
    file: std::io::BufWriter<std::fs::File>,
    /// The series' names: metrics.csv's columns after `epoch`.
    tags: Vec<String>,
}

impl Events {
    /// The event file of series `tags` for a run that continues after the steps `earlier`
    /// (none for a new run), each given with its values: records of those steps already in the
    /// file are kept, with their times; later ones (trained after the checkpoint) and a record
    /// cut short are dropped; missing ones are written from `earlier`. Replaced atomically,
    /// then opened for appending.
    pub fn open(path: &Path, tags: Vec<String>, earlier: &[(usize, Vec<f64>)]) -> Result<Events, String> {
        let epoch = earlier.last().map_or(0, |(step, _)| *step) as i64;
        let old = std::fs::read(path).unwrap_or_default();
        let mut kept = Vec::new();
        let mut last = 0;
        for (record, event) in records(&old) {
            let in_order = kept.is_empty() == matches!(event.what, Some(What::FileVersion(_)));
            if !in_order || event.step > epoch || (!kept.is_empty() && event.step != last + 1) {
                break;
            }
            last = event.step;
            kept.extend_from_slice(record);
        }
        if kept.is_empty() {
            let version =
                Event { wall_time: now(), step: 0, what: Some(What::FileVersion("brain.Event:2".into())) };
            kept = framed(&version.encode_to_vec());
            last = 0;
        }
        for (step, values) in earlier.iter().filter(|(step, _)| *step as i64 > last) {
            kept.extend(framed(&summary(&tags, *step, values).encode_to_vec()));
        }
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder)
                .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
        }
        write_atomic(path, &kept)?;
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot append to {}: {e}", path.display()))?;
        Ok(Events { file: std::io::BufWriter::new(file), tags })
    }

    /// Appends a step's record, one value per tag, and flushes it.
    pub fn append(&mut self, step: usize, values: &[f64]) -> std::io::Result<()> {
        self.file.write_all(&framed(&summary(&self.tags, step, values).encode_to_vec()))?;
        self.file.flush()
    }
}

/// A step's values, one per tag, as float32 (TensorBoard's `simple_value`).
fn summary(tags: &[String], step: usize, values: &[f64]) -> Event {
    let value = tags
        .iter()
        .zip(values)
        .map(|(tag, &v)| Value { tag: tag.clone(), kind: Some(Kind::SimpleValue(v as f32)) })
        .collect();
    Event { wall_time: now(), step: step as i64, what: Some(What::Summary(Summary { value })) }
}

fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// One TFRecord: length, masked CRC of the length, data, masked CRC of the data.
fn framed(data: &[u8]) -> Vec<u8> {
    let length = (data.len() as u64).to_le_bytes();
    let mut record = Vec::with_capacity(data.len() + 16);
    record.extend_from_slice(&length);
    record.extend_from_slice(&masked_crc(&length).to_le_bytes());
    record.extend_from_slice(data);
    record.extend_from_slice(&masked_crc(data).to_le_bytes());
    record
}

/// TFRecord's CRC: CRC-32C, rotated and offset so that a CRC of data holding CRCs stays strong.
fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// The whole records of a file, each with its event, up to the first damaged one.
fn records(bytes: &[u8]) -> Vec<(&[u8], Event)> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(head) = bytes.get(at..at + 12) {
        let length = u64::from_le_bytes(head[..8].try_into().unwrap_or_default());
        let length_crc = u32::from_le_bytes(head[8..12].try_into().unwrap_or_default());
        let Some(end) = usize::try_from(length).ok().and_then(|l| (at + 12).checked_add(l)) else { break };
        let (Some(data), Some(crc)) = (bytes.get(at + 12..end), bytes.get(end..end + 4)) else { break };
        let crc_ok = masked_crc(&head[..8]) == length_crc
            && masked_crc(data) == u32::from_le_bytes(crc.try_into().unwrap_or_default());
        let Some(event) = crc_ok.then(|| Event::decode(data).ok()).flatten() else { break };
        found.push((&bytes[at..end + 4], event));
        at = end + 4;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_masked_crc_is_tensorflows() {
        // CRC-32C of "123456789" is 0xE3069283 (the standard check value); masked as
        // tensorflow/core/lib/hash/crc32c.h does: ((crc >> 15) | (crc << 17)) + 0xa282ead8.
        let crc: u32 = 0xE306_9283;
        assert_eq!(crc32c::crc32c(b"123456789"), crc);
        assert_eq!(masked_crc(b"123456789"), ((crc >> 15) | (crc << 17)).wrapping_add(0xa282_ead8));
    }

    #[test]
    fn a_record_cut_short_is_dropped_and_the_rest_read_back() {
        let one = framed(&Event { wall_time: 1.0, step: 1, what: None }.encode_to_vec());
        let two = framed(&Event { wall_time: 2.0, step: 2, what: None }.encode_to_vec());
        let bytes = [one.clone(), two[..two.len() - 1].to_vec()].concat();
        let read = records(&bytes);
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].1.step, 1);
    }
}
