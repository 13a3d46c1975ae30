//! The `switchboard` binary: reads the environment, starts (or connects to) Postgres,
//! runs migrations and serves HTTP until Ctrl-C / SIGTERM.

#[tokio::main]
async fn main() {
    let code = switchboard::server::run().await;
    std::process::exit(code);
}
