//! `codegen` CLI: `check FILE...` verifies every constructor id; `generate FILE...` prints the
//! Rust code the build would generate (for inspection).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.split_first() {
        Some((cmd, files)) if cmd == "check" && !files.is_empty() => check(files),
        Some((cmd, files)) if cmd == "generate" && !files.is_empty() => generate(files),
        _ => {
            eprintln!("usage: codegen check FILE...   verify the constructor ids of TL schemas");
            eprintln!("       codegen generate FILE... print the generated Rust code to stdout");
            ExitCode::from(2)
        }
    }
}

fn load(file: &str) -> Result<codegen::Schema, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    codegen::parse(&text).map_err(|e| e.at(file))
}

fn check(files: &[String]) -> ExitCode {
    let mut ok = true;
    for file in files {
        match load(file) {
            Err(e) => {
                eprintln!("{e}");
                ok = false;
            }
            Ok(schema) => match codegen::verify(&schema) {
                Ok(r) => println!(
                    "{file}: {} definitions, {} ids verified, {} known exceptions",
                    r.definitions, r.verified, r.known_exceptions
                ),
                Err(errors) => {
                    for e in errors {
                        eprintln!("{}", e.at(file));
                    }
                    ok = false;
                }
            },
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn generate(files: &[String]) -> ExitCode {
    let mut schemas = Vec::new();
    for file in files {
        match load(file) {
            Ok(s) => schemas.push(s),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let refs: Vec<&codegen::Schema> = schemas.iter().collect();
    let config = codegen::Config {
        root: "crate::tl".into(),
        runtime: "crate::tl".into(),
    };
    match codegen::generate(&refs, &config) {
        Ok(code) => {
            print!("{code}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}", e.error.at(&files[e.schema]));
            ExitCode::FAILURE
        }
    }
}
