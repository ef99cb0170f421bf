//! `dizhi serve`: the HTTP API on a data directory.

use std::path::Path;

use super::{CliError, CliResult};

/// `dizhi serve`: the HTTP API until Ctrl-C (or SIGTERM), then the requests in flight finish.
pub fn serve(data: &Path, addr: &str, config: Option<&Path>) -> CliResult {
    use tracing_subscriber::EnvFilter;
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let addr: std::net::SocketAddr = addr
        .parse()
        .map_err(|e| CliError::usage(format!("--addr {addr}: {e} (expected IP:PORT)")))?;
    let config = config.map(dizhi::api::Config::read).transpose()?;
    let started = std::time::Instant::now();
    let (state, startup) = dizhi::api::AppState::build(data, config, addr.ip().is_loopback())?;
    if startup.built {
        eprintln!("built the bundled 青浦 district into {}", data.display());
    }
    if let Some(file) = &startup.admin_key_file {
        eprintln!(
            "created an admin API key: it is in {} (readable by you only); use it as `Authorization: Bearer KEY`",
            file.display()
        );
    }
    eprintln!(
        "{}: {} addresses, {} buildings, loaded in {:.1} s; lookups {}",
        data.display(),
        startup.addresses,
        startup.buildings,
        started.elapsed().as_secs_f64(),
        if startup.anonymous_lookups {
            "need no key"
        } else {
            "need a key"
        }
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        eprintln!("serving http://{local}/ (API docs: http://{local}/docs)");
        dizhi::api::serve(listener, dizhi::api::app(state), shutdown_signal()).await?;
        eprintln!("stopped");
        Ok::<(), CliError>(())
    })
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
