//! `tvm catalog`: list the built-in programs, or run them and check outputs.

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct CatalogArgs {}

pub fn run(_args: CatalogArgs) -> anyhow::Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
