//! The `ryzeapi` binary.

use ryzeapi_app::cli::{self, Command};
use ryzeapi_app::{Application, Settings};

fn main() -> anyhow::Result<()> {
    ryzeapi_app::logging::init()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = cli::parse(&args)?;
    if matches!(command, Command::Help | Command::Version) {
        return cli::run_once(&command, &Settings::default());
    }
    let settings = Settings::load()?;
    if command != Command::Serve {
        return cli::run_once(&command, &settings);
    }
    actix_web::rt::System::new().block_on(async move {
        Application::build(settings)?.run_until_stopped().await?;
        Ok(())
    })
}
