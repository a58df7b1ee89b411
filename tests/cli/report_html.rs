//! report.html: one self-contained page per run and per sweep, rendered by headless Chromium
//! (the DOM it builds, a screenshot, and its console, where a blocked fetch would show).

use super::*;

/// What Chromium makes of a page: its DOM and its console messages (stderr lines that
/// Chromium marks `CONSOLE`: script errors, and any fetch the page's policy blocked).
fn render(chromium: &Path, page: &Path, screenshot: Option<&Path>) -> (String, Vec<String>) {
    let url = format!("file://{}", page.display());
    let mut command = Command::new(chromium);
    command.args([
        "--no-sandbox",
        "--disable-gpu",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1000,3000",
    ]);
    match screenshot {
        Some(file) => command.arg(format!("--screenshot={}", file.display())),
        None => command.arg("--dump-dom"),
    };
    let out = command.arg(&url).output().expect("chromium runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let console = stderr(&out).lines().filter(|l| l.contains("CONSOLE")).map(String::from).collect();
    (stdout(&out), console)
}

#[test]
fn a_run_that_did_not_converge_has_a_report_with_every_section_that_chromium_renders_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (out, summary) = train(&repo().join("configs/or-question.toml"), dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = summary.unwrap();
    let page = dir.path().join("artifacts/or-question/report.html");
    let text = std::fs::read_to_string(&page).unwrap();
    assert!(!text.contains("http-equiv=\"refresh\""), "a finished run's page does not reload");
    // Self-contained: every image a data URL, no link or script to fetch (the SVG's
    // `xmlns="http://www.w3.org/2000/svg"` is a name, not a fetch).
    assert_eq!(text.matches("src=\"").count(), text.matches("src=\"data:image/png;base64,").count());
    assert!(
        !text.contains("href=\"http") && !text.contains("url(") && !text.contains("<script"),
        "self-contained"
    );
    let Some(chromium) = chromium() else { return };
    let (dom, console) = render(&chromium, &page, None);
    assert!(console.is_empty(), "console: {console:?}");
    for section in
        ["outcome", "curves", "predictions", "diagnosis", "layers", "boundary", "config", "artifacts"]
    {
        assert!(dom.contains(&format!("<section id=\"{section}\"")), "no {section} section");
    }
    assert_eq!(dom.matches("<tr class=\"prediction\">").count(), 4, "one row per truth-table row");
    assert!(dom.contains("not converged"), "the outcome");
    for finding in summary["diagnosis"].as_array().unwrap() {
        let code = finding["code"].as_str().unwrap();
        assert!(dom.contains(&format!("data-code=\"{code}\"")), "diagnosis {code} missing");
    }
    assert!(dom.contains("learning_rate = 0.000001"), "the resolved config");
    assert!(dom.contains("<li>summary.json</li>") && dom.contains("<li>loss.png</li>"), "the artifacts");

    let shot = dir.path().join("shot.png");
    render(&chromium, &page, Some(&shot));
    let (_, _, pixels) = super::pictures::decode(&shot);
    let share = |wanted: fn(&[u8; 3]) -> bool| {
        pixels.iter().filter(|p| wanted(p)).count() as f64 / pixels.len() as f64
    };
    assert!(share(|p| p != &[255, 255, 255]) > 0.05, "the page is not blank");
    // The curves' own colour: blue, anti-aliased into lighter shades of it (equal red and
    // green, full blue), which only the loss and accuracy lines draw.
    let blue = pixels.iter().filter(|p| p[2] >= 200 && p[0] < 160 && p[0].abs_diff(p[1]) < 30).count();
    assert!(blue >= 100, "no blue curve drawn ({blue} pixels)");
}

#[test]
fn a_training_run_reloads_its_page_until_it_ends_and_an_interrupted_one_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[data]\ngate = \"xor\"\n[training]\nnum_epochs = 10000000\ntolerance = 0\ncheckpoint_every = 100000\n";
    let config = config_file(dir.path(), "long.toml", text);
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatenet"))
        .args(["-q", config.to_str().unwrap(), "--artifacts", "artifacts"])
        .current_dir(dir.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let page = dir.path().join("artifacts/long/report.html");
    // The first page appears after a few seconds of training; a minute is far more.
    let live = (0..600).find_map(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::fs::read_to_string(&page).ok().filter(|t| t.contains("training: epoch"))
    });
    let live = live.expect("a page while the run trains");
    assert!(live.contains("http-equiv=\"refresh\" content=\"3\""), "it reloads itself");
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let stopped = std::fs::read_to_string(&page).unwrap();
    assert!(!stopped.contains("http-equiv=\"refresh\""), "an interrupted run's page stops reloading");
    assert!(stopped.contains("interrupted after epoch") && stopped.contains("--resume"), "{stopped}");
    // And `report --html` writes the same kind of page for the folder, saying where.
    let out = gatenet(&["report", "artifacts/long", "--html"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("report: artifacts/long/report.html"), "{}", stdout(&out));
    let again = std::fs::read_to_string(&page).unwrap();
    assert!(
        again.contains("not finished: metrics.csv ends at epoch") && !again.contains("refresh"),
        "{again}"
    );
}

#[test]
fn a_sweep_folder_has_a_report_with_one_row_per_setting() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[data]\ngate = \"or\"\n[training]\nnum_epochs = 200\n[sweep]\nactivation = [\"tanh\", \"relu\"]\nseeds = 2\n";
    let config = config_file(dir.path(), "pair.toml", text);
    let out = gatenet(&["-q", "sweep", config.to_str().unwrap(), "--artifacts", "artifacts"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let page = dir.path().join("artifacts/pair-sweep/report.html");
    let text = std::fs::read_to_string(&page).unwrap();
    assert_eq!(text.matches("<tr class=\"setting\">").count(), 2, "{text}");
    assert!(text.contains("<section id=\"picture\">"), "sweep.png inlined");
    let Some(chromium) = chromium() else { return };
    let (dom, console) = render(&chromium, &page, None);
    assert!(console.is_empty(), "console: {console:?}");
    assert!(dom.contains("tanh") && dom.contains("relu"), "{dom}");
}

#[test]
fn a_halving_sweeps_report_shows_its_rungs_as_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[data]\ngate = \"or\"\n[training]\nnum_epochs = 90\ntolerance = 0\n\
                [sweep]\nlearning_rate = { min = 0.001, max = 0.1, log = true }\ntrials = 4\nseeds = 1\nhalving = 3\nmin_epochs = 10\n";
    let config = config_file(dir.path(), "halved.toml", text);
    let out = gatenet(&["-q", "sweep", config.to_str().unwrap()], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let page = dir.path().join("artifacts/halved-sweep/report.html");
    let text = std::fs::read_to_string(&page).unwrap();
    assert!(
        text.contains(
            "<tr><th>rung</th><th>epochs</th><th>trials</th><th>ended by themselves</th><th>went on</th></tr>"
        ),
        "{text}"
    );
    assert!(text.contains("<tr><td>1</td><td>10</td><td>4</td><td>0</td><td>2</td></tr>"), "{text}");
    assert!(!text.contains("| rung |"), "no Markdown left in the page: {text}");
    let Some(chromium) = chromium() else { return };
    let (dom, console) = render(&chromium, &page, None);
    assert!(console.is_empty(), "console: {console:?}");
    assert!(dom.contains("<th>went on</th>"), "{dom}");
}
