//! A trained network as one ONNX graph, from the raw inputs a user has to the outputs
//! `gatenet predict` prints: a CSV run's scaling (Sub, Div), each layer as Gemm, each activation
//! in ONNX's own operators, and a dynamic batch dimension named `batch`.
//!
//! Opset 17 (IR version 8), which every onnxruntime since 1.12 runs. GELU is spelled with Erf,
//! as opset 17 has no Gelu; SiLU as x * Sigmoid(x); LeakyReLU with alpha 0.01, as gatenet's.

use crate::config::{Activation, OutputActivation};
use crate::model::exported::Exported;
use crate::model::onnx_proto::*;
use prost::Message;

pub const OPSET: i64 = 17;
const IR_VERSION: i64 = 8;
/// The graph's input and output names.
pub const INPUT: &str = "input";
pub const OUTPUT: &str = "output";

/// The file's bytes.
pub fn encode(network: &Exported) -> Vec<u8> {
    let mut graph = Graph::default();
    let mut x = INPUT.to_string();
    if let Some((mean, std)) = &network.scaling {
        let shape = [mean.len() as i64];
        let mean = graph.constant("input_mean", &shape, mean);
        let std = graph.constant("input_std", &shape, std);
        let centred = graph.node("Sub", &[&x, &mean], "scale_centred", Vec::new());
        x = graph.node("Div", &[&centred, &std], "scaled", Vec::new());
    }
    let last = network.layers.len().saturating_sub(1);
    for (i, layer) in network.layers.iter().enumerate() {
        // Burn's [in, out] weight is Gemm's B as it is (transB = 0): y = x W + b.
        let weight = graph.constant(
            &format!("layers.{i}.weight"),
            &[layer.inputs as i64, layer.outputs as i64],
            &layer.weight,
        );
        let bias = graph.constant(&format!("layers.{i}.bias"), &[layer.outputs as i64], &layer.bias);
        let z = graph.node("Gemm", &[&x, &weight, &bias], &format!("layers.{i}.z"), Vec::new());
        x = if i == last {
            output(&mut graph, network.output, &z)
        } else {
            hidden(&mut graph, network.activation, &z, i)
        };
    }
    graph.node("Identity", &[&x], OUTPUT, Vec::new());
    model(network, graph)
}

/// A hidden layer's activation of `z`; returns the name of its output.
fn hidden(graph: &mut Graph, activation: Activation, z: &str, i: usize) -> String {
    let a = format!("layers.{i}.a");
    match activation {
        Activation::Sigmoid => graph.node("Sigmoid", &[z], &a, Vec::new()),
        Activation::Tanh | Activation::TanhHalfGradient => graph.node("Tanh", &[z], &a, Vec::new()),
        Activation::Relu => graph.node("Relu", &[z], &a, Vec::new()),
        Activation::LeakyRelu => graph.node("LeakyRelu", &[z], &a, vec![float("alpha", 0.01)]),
        Activation::Gelu => {
            // x * 0.5 * (1 + erf(x / sqrt 2)), the exact GELU gatenet trains with.
            let root2 = graph.scalar("sqrt2", std::f32::consts::SQRT_2);
            let (one, half) = (graph.scalar("one", 1.0), graph.scalar("half", 0.5));
            let scaled = graph.node("Div", &[z, &root2], &format!("layers.{i}.z_over_sqrt2"), Vec::new());
            let erf = graph.node("Erf", &[&scaled], &format!("layers.{i}.erf"), Vec::new());
            let plus = graph.node("Add", &[&erf, &one], &format!("layers.{i}.erf_plus_1"), Vec::new());
            let phi = graph.node("Mul", &[&plus, &half], &format!("layers.{i}.phi"), Vec::new());
            graph.node("Mul", &[z, &phi], &a, Vec::new())
        }
        Activation::Silu => {
            let s = graph.node("Sigmoid", &[z], &format!("layers.{i}.sigmoid"), Vec::new());
            graph.node("Mul", &[z, &s], &a, Vec::new())
        }
        Activation::Identity => graph.node("Identity", &[z], &a, Vec::new()),
    }
}

/// The output activation of the last layer's `z`.
fn output(graph: &mut Graph, activation: OutputActivation, z: &str) -> String {
    match activation {
        OutputActivation::Sigmoid => graph.node("Sigmoid", &[z], "probabilities", Vec::new()),
        OutputActivation::Softmax => graph.node("Softmax", &[z], "probabilities", vec![int("axis", -1)]),
        OutputActivation::Identity => z.to_string(),
    }
}

fn model(network: &Exported, graph: Graph) -> Vec<u8> {
    let (inputs, outputs) =
        (network.features.len() as i64, network.layers.last().map_or(0, |l| l.outputs) as i64);
    let described = |name: &str, width: i64, names: &[String]| ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorType {
                elem_type: Some(FLOAT),
                shape: Some(TensorShapeProto {
                    dim: vec![
                        Dimension { value: Some(DimensionValue::DimParam("batch".into())) },
                        Dimension { value: Some(DimensionValue::DimValue(width)) },
                    ],
                }),
            }),
        }),
        doc_string: Some(format!("columns: {}", names.join(", "))),
    };
    let output_names = network.classes.as_ref().unwrap_or(&network.targets);
    let doc = format!(
        "gatenet run {} ({}): raw inputs [{}] in, {} out",
        network.name,
        network.source,
        network.features.join(", "),
        output_names.join(", ")
    );
    let graph = GraphProto {
        node: graph.nodes,
        name: Some(network.name.clone()),
        initializer: graph.initializers,
        doc_string: Some(doc.clone()),
        input: vec![described(INPUT, inputs, &network.features)],
        output: vec![described(OUTPUT, outputs, output_names)],
    };
    let metadata_props = network
        .metadata()
        .into_iter()
        .map(|(key, value)| StringStringEntryProto { key: Some(key), value: Some(value) })
        .collect();
    ModelProto {
        ir_version: Some(IR_VERSION),
        producer_name: Some("gatenet".into()),
        producer_version: Some(env!("CARGO_PKG_VERSION").into()),
        doc_string: Some(doc),
        graph: Some(graph),
        opset_import: vec![OperatorSetIdProto { domain: Some(String::new()), version: Some(OPSET) }],
        metadata_props,
    }
    .encode_to_vec()
}

/// Nodes and constants as they are added, each named once.
#[derive(Default)]
struct Graph {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
}

impl Graph {
    /// Adds `op(inputs) -> output`; returns `output`.
    fn node(&mut self, op: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) -> String {
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.to_string()],
            name: Some(format!("{op}:{output}")),
            op_type: Some(op.to_string()),
            attribute,
        });
        output.to_string()
    }

    /// A float32 constant of `shape` (row-major), added once by name; returns the name.
    fn constant(&mut self, name: &str, shape: &[i64], values: &[f32]) -> String {
        if !self.initializers.iter().any(|t| t.name.as_deref() == Some(name)) {
            self.initializers.push(TensorProto {
                dims: shape.to_vec(),
                data_type: Some(FLOAT),
                name: Some(name.to_string()),
                raw_data: Some(values.iter().flat_map(|v| v.to_le_bytes()).collect()),
            });
        }
        name.to_string()
    }

    fn scalar(&mut self, name: &str, value: f32) -> String {
        self.constant(name, &[], &[value])
    }
}

fn float(name: &str, f: f32) -> AttributeProto {
    AttributeProto { name: Some(name.into()), f: Some(f), i: None, r#type: Some(ATTRIBUTE_FLOAT) }
}

fn int(name: &str, i: i64) -> AttributeProto {
    AttributeProto { name: Some(name.into()), f: None, i: Some(i), r#type: Some(ATTRIBUTE_INT) }
}
