//! A thin W3C WebDriver client over `reqwest` (already a dev-dependency): start `chromedriver`,
//! open a headless Chromium session, navigate, find elements, type, click, run scripts and take
//! screenshots.
//!
//! Why not a crate: WebDriver is plain JSON over HTTP and these tests use a dozen commands.
//! fantoccini (the well-kept client) defaults to native-tls (openssl); with default features off
//! it still adds a second HTTP client stack (hyper-util, its `webdriver` crate, cookies) beside
//! reqwest, for what fits in this file. playwright would bring Node. Both would drive the same
//! Debian `chromium` as this does.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Set to `1` to skip the browser tests on a machine without Chromium (documented in the README).
pub const SKIP_ENV: &str = "DIZHI_SKIP_BROWSER_TESTS";

/// The viewport the page is designed for (a common office laptop).
pub const WIDTH: u32 = 1366;
/// The viewport the page is designed for.
pub const HEIGHT: u32 = 768;

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in names {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// `chromedriver` and the Chromium binary, or a panic that says how to install them.
pub fn browser_binaries() -> (PathBuf, PathBuf) {
    let driver = std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .or_else(|| on_path(&["chromedriver"]));
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| on_path(&["chromium", "chromium-browser", "google-chrome"]));
    match (driver, chromium) {
        (Some(d), Some(c)) => (d, c),
        (d, c) => panic!(
            "the web page's end-to-end tests need Chromium and ChromeDriver, and {} not found on PATH.\n\
             Install them (Debian): apt-get install -y chromium chromium-driver\n\
             (or set CHROMIUM / CHROMEDRIVER to the binaries; {SKIP_ENV}=1 skips these tests)",
            match (d.is_none(), c.is_none()) {
                (true, true) => "chromedriver and chromium were",
                (true, false) => "chromedriver was",
                _ => "chromium was",
            }
        ),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A WebDriver error answer.
#[derive(Debug)]
pub struct WdError(pub String);

/// One chromedriver process with one browser session; both end when this is dropped.
pub struct Browser {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    driver: Child,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

/// An element reference.
#[derive(Debug, Clone)]
pub struct Element(pub String);

/// The WebDriver key code of Shift.
pub const SHIFT: &str = "\u{E008}";

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium at 1366×768 with a fresh
    /// profile and no background networking (the machine's network is closed).
    pub fn start() -> Browser {
        let (driver_bin, chromium) = browser_binaries();
        let port = free_port();
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver_bin.display()));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let profile = tempfile::tempdir().unwrap();
        let mut browser = Browser {
            rt,
            http: reqwest::Client::new(),
            driver,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            _profile: profile,
        };
        let started = Instant::now();
        loop {
            let ready = browser
                .raw("GET", "/status", None)
                .ok()
                .is_some_and(|v| v["ready"] == true);
            if ready {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not become ready on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let args = [
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--hide-scrollbars".into(),
            "--force-device-scale-factor=1".into(),
            "--lang=zh-CN".into(),
            format!("--window-size={WIDTH},{HEIGHT}"),
            format!("--user-data-dir={}", browser._profile.path().display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "unhandledPromptBehavior": "dismiss",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}});
        let v = browser
            .raw("POST", "/session", Some(caps))
            .unwrap_or_else(|e| panic!("no browser session: {}", e.0));
        browser.session = v["sessionId"].as_str().expect("a session id").to_string();
        // --window-size sets the window; make the viewport itself 1366×768.
        let chrome: Vec<i64> = serde_json::from_value(browser.exec(
            "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight];",
            json!([]),
        ))
        .unwrap_or_default();
        if let [w, h] = chrome[..] {
            browser.cmd(
                "POST",
                "/window/rect",
                Some(json!({"width": i64::from(WIDTH) + w, "height": i64::from(HEIGHT) + h})),
            );
        }
        browser
    }

    fn raw(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, WdError> {
        let url = format!("{}{path}", self.base);
        self.rt.block_on(async {
            let req = match method {
                "GET" => self.http.get(&url),
                "DELETE" => self.http.delete(&url),
                _ => self.http.post(&url).json(&body.unwrap_or(json!({}))),
            };
            let r = req
                .timeout(Duration::from_secs(60))
                .send()
                .await
                .map_err(|e| WdError(e.to_string()))?;
            let v: Value = r.json().await.map_err(|e| WdError(e.to_string()))?;
            match v["value"].get("error") {
                Some(e) => Err(WdError(format!(
                    "{e}: {}",
                    v["value"]["message"].as_str().unwrap_or("")
                ))),
                None => Ok(v["value"].clone()),
            }
        })
    }

    /// A session command; panics with WebDriver's message on error.
    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        self.raw(method, &path, body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {}", e.0))
    }

    /// Navigates to `url` and waits for the page to load.
    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({"url": url})));
    }

    /// The first element matching `css`, if any.
    pub fn try_find(&self, css: &str) -> Option<Element> {
        let path = format!("/session/{}/element", self.session);
        self.raw(
            "POST",
            &path,
            Some(json!({"using": "css selector", "value": css})),
        )
        .ok()
        .and_then(|v| v[ELEMENT_KEY].as_str().map(|s| Element(s.to_string())))
    }

    /// The first element matching `css`, waiting up to 10 s for it.
    pub fn find(&self, css: &str) -> Element {
        self.wait(&format!("an element {css}"), || self.try_find(css))
    }

    /// Types `text` into the element (one WebDriver call: the keys arrive one by one).
    pub fn send_keys(&self, el: &Element, text: &str) {
        self.cmd(
            "POST",
            &format!("/element/{}/value", el.0),
            Some(json!({"text": text})),
        );
    }

    /// Types `text` a key at a time with a pause between keys, as a person does.
    pub fn type_slowly(&self, el: &Element, text: &str, pause: Duration) {
        for c in text.chars() {
            self.send_keys(el, &c.to_string());
            std::thread::sleep(pause);
        }
    }

    /// Presses keys on whatever has the focus (W3C key actions), e.g. `"\u{E015}"` for ArrowDown.
    pub fn press(&self, keys: &[&str]) {
        let mut actions = Vec::new();
        for k in keys {
            actions.push(json!({"type": "keyDown", "value": k}));
            actions.push(json!({"type": "keyUp", "value": k}));
        }
        self.cmd(
            "POST",
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
        );
        self.cmd("DELETE", "/actions", None);
    }

    /// Presses keys together (e.g. Control + `a`): all down in order, then all up.
    pub fn chord(&self, keys: &[&str]) {
        let mut actions: Vec<Value> = keys
            .iter()
            .map(|k| json!({"type": "keyDown", "value": k}))
            .collect();
        actions.extend(
            keys.iter()
                .rev()
                .map(|k| json!({"type": "keyUp", "value": k})),
        );
        self.cmd(
            "POST",
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
        );
        self.cmd("DELETE", "/actions", None);
    }

    /// A left click at viewport coordinates (CSS pixels), with a real mouse down and up.
    pub fn click_at(&self, x: f64, y: f64) {
        let (x, y) = (x.round() as i64, y.round() as i64);
        self.cmd(
            "POST",
            "/actions",
            Some(json!({"actions": [{"type": "pointer", "id": "mouse",
            "parameters": {"pointerType": "mouse"},
            "actions": [
                {"type": "pointerMove", "origin": "viewport", "x": x, "y": y, "duration": 0},
                {"type": "pointerDown", "button": 0},
                {"type": "pause", "duration": 50},
                {"type": "pointerUp", "button": 0},
            ]}]})),
        );
        self.cmd("DELETE", "/actions", None);
    }

    /// Drags the mouse from one viewport point to another with Shift held (a box selection).
    pub fn shift_drag(&self, from: (f64, f64), to: (f64, f64)) {
        let p = |v: f64| v.round() as i64;
        let pause = json!({"type": "pause", "duration": 0});
        self.cmd(
            "POST",
            "/actions",
            Some(json!({"actions": [
                {"type": "key", "id": "keyboard", "actions": [
                    {"type": "keyDown", "value": SHIFT}, pause, pause, pause,
                    {"type": "keyUp", "value": SHIFT}]},
                {"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": [
                    {"type": "pointerMove", "origin": "viewport", "x": p(from.0), "y": p(from.1), "duration": 0},
                    {"type": "pointerDown", "button": 0},
                    {"type": "pointerMove", "origin": "viewport", "x": p(to.0), "y": p(to.1), "duration": 200},
                    {"type": "pointerUp", "button": 0},
                    pause]},
            ]})),
        );
        self.cmd("DELETE", "/actions", None);
    }

    /// Clicks an element (in its centre).
    pub fn click(&self, el: &Element) {
        self.cmd("POST", &format!("/element/{}/click", el.0), Some(json!({})));
    }

    /// The element's rendered text.
    pub fn text(&self, el: &Element) -> String {
        self.cmd("GET", &format!("/element/{}/text", el.0), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its value.
    pub fn exec(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// The element that has the focus, as `tag#id` (for keyboard tests).
    pub fn focused(&self) -> String {
        self.exec(
            "const e = document.activeElement; return e ? e.tagName.toLowerCase() + '#' + e.id : '';",
            json!([]),
        )
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// Waits up to 10 s for `f` to give something.
    pub fn wait<T>(&self, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
        let started = Instant::now();
        loop {
            if let Some(v) = f() {
                return v;
            }
            if started.elapsed() > Duration::from_secs(10) {
                let page = self
                    .exec(
                        "return document.querySelector('main') ? document.querySelector('main').innerText : ''",
                        json!([]),
                    )
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .take(1500)
                    .collect::<String>();
                panic!("timed out waiting for {what}; the page says:\n{page}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Saves a PNG screenshot of the viewport.
    pub fn screenshot(&self, path: &Path) {
        let b64 = self.cmd("GET", "/screenshot", None);
        let png = base64_decode(b64.as_str().expect("base64 PNG"));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.raw("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Standard base64 (what WebDriver screenshots are in).
fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in s.bytes().filter_map(val) {
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[test]
fn base64_decodes() {
    assert_eq!(base64_decode("aGVsbG8="), b"hello");
    assert_eq!(base64_decode("iVBORw0KGgo="), b"\x89PNG\r\n\x1a\n");
}
