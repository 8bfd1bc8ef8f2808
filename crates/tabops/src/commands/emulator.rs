//! `tabops emulator`: run the local Tableau REST API emulator until interrupted (Ctrl-C or SIGTERM), then
//! save its state. Prints `listening on http://ADDR` once it accepts requests.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use tabops_emulator::{DEFAULT_SITE, Emulator, EmulatorConfig};

use super::ExitStatus;

#[derive(Args)]
pub struct EmulatorArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "TABOPS_EMULATOR_LISTEN", default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    /// Content URL of the emulated site.
    #[arg(long, env = "TABOPS_EMULATOR_SITE", default_value = DEFAULT_SITE)]
    pub site: String,
    /// Accepted personal access token as NAME:SECRET (repeatable). Default: tabops:tabops-local-secret.
    #[arg(long = "pat", value_name = "NAME:SECRET")]
    pub pats: Vec<String>,
    /// HS256 secret for connected-app JWT sign-in.
    #[arg(long, env = "TABOPS_EMULATOR_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Persist the site to this JSON file (loaded at start, written atomically).
    #[arg(long = "state", env = "TABOPS_EMULATOR_STATE")]
    pub state: Option<PathBuf>,
    /// Delay added to every API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Probability (0..1) of an injected fault per API request.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Seed of the fault injector (same seed and request order, same faults).
    #[arg(long, default_value_t = 0)]
    pub fault_seed: u64,
    /// Serve the state-changing test hooks (POST /_emulator/stats/reset, sessions/expire, stall, jobs/fail-next).
    /// They need no token, so they are off unless asked for; GET /_emulator/stats is always served.
    #[arg(long)]
    pub test_hooks: bool,
}

impl std::fmt::Debug for EmulatorArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pat_names: Vec<&str> = self.pats.iter().map(|p| p.split(':').next().unwrap_or("")).collect();
        f.debug_struct("EmulatorArgs")
            .field("listen", &self.listen)
            .field("site", &self.site)
            .field("pats", &pat_names)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "<redacted>"))
            .field("state", &self.state)
            .field("latency_ms", &self.latency_ms)
            .field("fault_rate", &self.fault_rate)
            .field("fault_seed", &self.fault_seed)
            .field("test_hooks", &self.test_hooks)
            .finish()
    }
}

/// The emulator's settings: the arguments checked and turned into its configuration.
pub fn resolve(args: EmulatorArgs) -> anyhow::Result<EmulatorConfig> {
    let mut pats = Vec::new();
    for pat in &args.pats {
        let (name, secret) =
            pat.split_once(':').filter(|(n, s)| !n.is_empty() && !s.is_empty()).with_context(|| {
                format!("invalid --pat value for token '{}': expected NAME:SECRET", pat.split(':').next().unwrap_or(""))
            })?;
        pats.push((name.to_owned(), secret.to_owned()));
    }
    if !(0.0..=1.0).contains(&args.fault_rate) {
        anyhow::bail!("invalid --fault-rate {}: expected a probability between 0 and 1", args.fault_rate);
    }
    Ok(EmulatorConfig {
        listen: args.listen,
        site: args.site,
        pats,
        jwt_secret: args.jwt_secret,
        state_file: args.state,
        latency: Duration::from_millis(args.latency_ms),
        fault_rate: args.fault_rate,
        fault_seed: args.fault_seed,
        test_hooks: args.test_hooks,
        ..EmulatorConfig::default()
    })
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

pub async fn run(config: EmulatorConfig) -> anyhow::Result<ExitStatus> {
    let listen = config.listen;
    let emulator =
        Emulator::start(config).await.with_context(|| format!("failed to start the emulator on {listen}"))?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening on {}", emulator.url())?;
        stdout.flush()?;
    }
    if !listen.ip().is_loopback() {
        // Said on stderr so the first line of stdout stays `listening on ...` for scripts.
        let mut stderr = anstream::stderr().lock();
        writeln!(
            stderr,
            "warning: the emulator is a test server for tabops' own tests, not a Tableau site; it now serves {listen} \
             beyond this machine"
        )?;
    }
    stop_signal().await;
    emulator.shutdown().await;
    Ok(ExitStatus::Success)
}
