//! `gatenet export`: every family of run and every hidden activation, exported to ONNX and
//! safetensors and checked by the real clients (tests/python/check_export.py: onnx's checker,
//! onnxruntime, safetensors.numpy and a numpy forward pass) against `gatenet predict`.

use super::*;
use gatenet::data::rng::SplitMix64;

/// Trains `config` (a file in `dir`), exports it both ways, predicts `inputs` (a CSV file in
/// `dir`) and has Python check both exports against the prediction.
fn exported_and_checked(python: &Path, dir: &Path, config: &str, inputs: &str) -> String {
    let (out, _) = train(&dir.join(config), dir);
    assert!(out.status.success(), "{config}: {}", stderr(&out));
    let run = dir.join("artifacts").join(config.trim_end_matches(".toml"));
    let run = run.to_str().unwrap();
    for format in ["onnx", "safetensors"] {
        let out = gatenet(&["export", run, "--format", format], dir);
        assert!(out.status.success(), "{config} {format}: {}", stderr(&out));
        assert!(stdout(&out).contains(&format!("model.{format}")), "{}", stdout(&out));
    }
    let out = gatenet(&["predict", run, "--csv", inputs], dir);
    assert!(out.status.success(), "{config}: {}", stderr(&out));
    let predicted = dir.join(format!("{config}.predicted.csv"));
    std::fs::write(&predicted, stdout(&out)).unwrap();
    let run = Path::new(run);
    let files = [run.join("model.onnx"), run.join("model.safetensors"), dir.join(inputs), predicted];
    python_check(python, "check_export.py", &files.iter().map(PathBuf::as_path).collect::<Vec<_>>())
}

#[test]
fn every_hidden_activation_exports_to_onnx_and_safetensors_that_answer_as_predict_does() {
    let Some(python) = python(&["numpy", "onnx", "onnxruntime", "safetensors"]) else { return };
    let dir = tempfile::tempdir().unwrap();
    // The truth table, and inputs off it, where no activation is saturated or flat.
    std::fs::write(dir.path().join("rows.csv"), "in1,in2\n0,0\n0,1\n1,0\n1,1\n0.3,-1.7\n2.5,0.5\n-0.8,0.1\n")
        .unwrap();
    let activations =
        ["sigmoid", "tanh", "relu", "leaky_relu", "gelu", "silu", "identity", "tanh_half_gradient"];
    for activation in activations {
        let name = format!("or-{activation}.toml");
        let text = format!(
            "[data]\ngate = \"or\"\n[model]\nhidden_sizes = [5, 3]\nactivation = \"{activation}\"\n\
             [training]\nnum_epochs = 30\ntolerance = 0\n"
        );
        config_file(dir.path(), &name, &text);
        let said = exported_and_checked(&python, dir.path(), &name, "rows.csv");
        assert!(
            said.contains("onnxruntime: matches") && said.contains("safetensors + numpy: matches"),
            "{said}"
        );
    }
}

#[test]
fn synthetic_classes_and_regression_runs_export_their_scaling_and_names() {
    let Some(python) = python(&["numpy", "onnx", "onnxruntime", "safetensors"]) else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut rng = SplitMix64::new(11);
    let mut points = String::from("in1,in2\n");
    for _ in 0..50 {
        points += &format!("{:.4},{:.4}\n", 2.4 * rng.unit() - 1.2, 2.4 * rng.unit() - 1.2);
    }
    // A synthetic set, on a 40-wide tanh layer (gatenet's tanh through exp, see activation.rs).
    std::fs::write(dir.path().join("points.csv"), &points).unwrap();
    let circle = "[data]\nsynthetic = \"circle\"\nsamples = 200\n[model]\nhidden_sizes = [40]\n\
                  [training]\nnum_epochs = 20\ntolerance = 0\n";
    config_file(dir.path(), "circle.toml", circle);
    exported_and_checked(&python, dir.path(), "circle.toml", "points.csv");

    // The fruit classifier: scaling, softmax, three classes named in the metadata.
    std::fs::copy(repo().join("configs/fruit.csv"), dir.path().join("fruit.csv")).unwrap();
    let fruit = std::fs::read_to_string(repo().join("configs/fruit.toml")).unwrap();
    config_file(dir.path(), "fruit.toml", &fruit.replace("num_epochs = 300", "num_epochs = 15"));
    exported_and_checked(&python, dir.path(), "fruit.toml", "fruit.csv");

    // A regression: numbers in their own units, scaled inputs of very different sizes.
    let mut line = String::from("a,b,y\n");
    for _ in 0..120 {
        let (a, b) = (10.0 * rng.unit(), 100.0 * rng.unit());
        line += &format!("{a:.3},{b:.3},{:.4}\n", 2.0 * a - 0.05 * b + 1.0);
    }
    std::fs::write(dir.path().join("line.csv"), line).unwrap();
    let regression = "[data]\ncsv = \"line.csv\"\ntargets = [\"y\"]\n[model]\nhidden_sizes = [8]\n\
                      activation = \"relu\"\noutput_activation = \"identity\"\n\
                      [training]\nnum_epochs = 200\ntolerance = 0\n";
    config_file(dir.path(), "line.toml", regression);
    exported_and_checked(&python, dir.path(), "line.toml", "line.csv");
}

#[test]
fn a_checkpoint_exports_under_its_epoch_and_answers_as_predict_from_it_does() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[data]\ngate = \"xor\"\n[training]\nnum_epochs = 40\ntolerance = 0\ncheckpoint_every = 10\n";
    let (out, _) = train(&config_file(dir.path(), "xor.toml", text), dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let out = gatenet(&["export", "artifacts/xor", "--format", "onnx", "--epoch", "30"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("checkpoint of epoch 30"), "{}", stdout(&out));
    let file = dir.path().join("artifacts/xor/model-epoch-30.onnx");
    assert!(file.is_file());
    let Some(python) = python(&["numpy", "onnxruntime"]) else { return };
    std::fs::write(dir.path().join("rows.csv"), "in1,in2\n0,0\n0,1\n1,0\n1,1\n").unwrap();
    let out = gatenet(&["predict", "artifacts/xor", "--epoch", "30", "--csv", "rows.csv"], dir.path());
    let predicted: Vec<f32> =
        stdout(&out).lines().skip(1).map(|l| l.rsplit(',').next().unwrap().parse().unwrap()).collect();
    let script = format!(
        "import onnxruntime, numpy\ns = onnxruntime.InferenceSession({:?})\n\
         print(' '.join(str(v) for v in s.run(None, {{'input': numpy.array([[0,0],[0,1],[1,0],[1,1]], numpy.float32)}})[0].ravel()))",
        file.to_str().unwrap()
    );
    let out = Command::new(&python).args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let answered: Vec<f32> = stdout(&out).split_whitespace().map(|v| v.parse().unwrap()).collect();
    assert_eq!(answered.len(), 4);
    for (a, p) in answered.iter().zip(&predicted) {
        assert!((a - p).abs() < 1e-5, "onnxruntime {answered:?}, predict --epoch 30 {predicted:?}");
    }
}

#[test]
fn exporting_what_is_not_a_trained_run_or_to_where_it_cannot_write_is_refused_leaving_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = gatenet(&["export", "nowhere", "--format", "onnx"], d);
    assert_refused(&out, &["nowhere", "not a folder"]);
    let text = "[data]\ngate = \"or\"\n[training]\nnum_epochs = 5\n";
    let (out, _) = train(&config_file(d, "or.toml", text), d);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = gatenet(&["export", "artifacts/or", "--format", "keras"], d);
    assert_refused(&out, &["keras", "safetensors", "onnx"]);
    // A folder that does not exist, and a folder given as the file.
    let out = gatenet(&["export", "artifacts/or", "--format", "onnx", "--out", "missing/model.onnx"], d);
    assert_refused(&out, &["missing/model.onnx"]);
    let out = gatenet(&["export", "artifacts/or", "--format", "onnx", "--out", "artifacts"], d);
    assert_refused(&out, &["is a folder"]);
    // A damaged model.bpk: refused by its checksum, and no export written.
    let model = d.join("artifacts/or/model.bpk");
    let mut bytes = std::fs::read(&model).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&model, bytes).unwrap();
    let out = gatenet(&["export", "artifacts/or", "--format", "safetensors"], d);
    assert_refused(&out, &["model.bpk is damaged"]);
    let left: Vec<String> = std::fs::read_dir(d.join("artifacts/or"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".onnx") || n.contains(".safetensors") || n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// Opt-in (PyTorch's Linux wheel pulls several GB, so CI does not install it): run with
/// `GATENET_TORCH_PYTHON=/path/to/python-with-torch cargo test --release -- --ignored pytorch`.
/// The module is the README's own block, run as printed.
#[test]
#[ignore]
fn the_readme_pytorch_module_loads_the_safetensors_export_strictly_and_answers_as_predict_does() {
    let python = PathBuf::from(std::env::var_os("GATENET_TORCH_PYTHON").expect("GATENET_TORCH_PYTHON"));
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let block =
        readme.split("<!-- pytorch-class -->\n```python\n").nth(1).unwrap().split("```").next().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(repo().join("configs/fruit.csv"), dir.path().join("fruit.csv")).unwrap();
    let (out, _) = train(&repo().join("configs/fruit.toml"), dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let out = gatenet(&["export", "artifacts/fruit", "--format", "safetensors"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let out = gatenet(&["predict", "artifacts/fruit", "--csv", "fruit.csv"], dir.path());
    std::fs::write(dir.path().join("predicted.csv"), stdout(&out)).unwrap();
    let script = format!(
        "{block}\nimport csv, numpy as np\n\
         rows = list(csv.DictReader(open('fruit.csv')))\n\
         model = Gatenet('artifacts/fruit/model.safetensors')\n\
         features = json.loads(safe_open('artifacts/fruit/model.safetensors', 'pt').metadata()['features'])\n\
         x = torch.tensor([[float(r[f]) for f in features] for r in rows])\n\
         got = model(x).detach().numpy()\n\
         want = np.array([[float(r[k]) for k in r if k.startswith('p_')] for r in csv.DictReader(open('predicted.csv'))])\n\
         worst = float(np.abs(got - want).max())\n\
         assert worst < 1e-5, worst\n\
         print(f'torch strict load: {{len(rows)}} rows match predict, largest difference {{worst:.2g}}')\n"
    );
    let out = Command::new(&python).args(["-c", &script]).current_dir(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    println!("{}", stdout(&out));
}
