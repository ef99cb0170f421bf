//! What several test areas share: the fixture district built once per test binary.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// The runtime the in-process HTTP servers of the tests run on (two workers, as the machine has
/// two cores).
pub static RT: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
});

/// Serves `state` as `dizhi serve` does, on a free port of 127.0.0.1, in the background on [`RT`]
/// until the test binary exits.
pub fn serve_on_loopback(state: dizhi::api::AppState) -> SocketAddr {
    let listener = RT
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("a free port on 127.0.0.1");
    let addr = listener.local_addr().expect("bound address");
    RT.spawn(dizhi::api::serve(
        listener,
        dizhi::api::app(state),
        std::future::pending(),
    ));
    addr
}

/// The committed fixture district's source directory.
pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/qingpu-20k")
}

/// A data directory with the fixture's store and search index, built once for the whole test
/// binary (it lives in a temporary directory removed at exit).
pub fn fixture_data() -> &'static Path {
    static DATA: LazyLock<tempfile::TempDir> = LazyLock::new(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        dizhi::store::build(&fixture_dir(), dir.path(), &|_, _, _| {}).expect("fixture builds");
        let store = dizhi::store::Store::open(dir.path()).expect("store opens");
        dizhi::search::build_index(&store, &dizhi::search::AddressIndex::dir(dir.path()))
            .expect("index builds");
        dir
    });
    DATA.path()
}

/// `s` percent-encoded for a query string.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
