//! The `backroom` command: parses the command line and hands over to the library.

fn main() -> std::process::ExitCode {
    server::cli::main()
}
