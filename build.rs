//! Generates the TL types from `schema/*.tl` into OUT_DIR (see `codegen`). Any schema error,
//! including a constructor id that is not the CRC32 of its definition, fails the build with
//! `file:line`.

use std::path::PathBuf;
use std::process::exit;

const SCHEMAS: [&str; 2] = ["schema/mtproto.tl", "schema/api.tl"];
/// Every definition of the sampled API layers (133 … the current one), for per-layer serving.
const INDEX: &str = "schema/index.tl";

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    exit(1);
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let mut schemas = Vec::new();
    for file in SCHEMAS {
        println!("cargo:rerun-if-changed={file}");
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| fail(&format!("{file}: {e}")));
        let schema = codegen::parse(&text).unwrap_or_else(|e| fail(&e.at(file)));
        if let Err(errors) = codegen::verify(&schema) {
            let all: Vec<String> = errors.iter().map(|e| e.at(file)).collect();
            fail(&all.join("\n"));
        }
        schemas.push(schema);
    }
    let layer = schemas[1]
        .layer
        .unwrap_or_else(|| fail(&format!("{}: no // LAYER N line", SCHEMAS[1])));
    let refs: Vec<&codegen::Schema> = schemas.iter().collect();
    let config = codegen::Config {
        root: "crate::tl".into(),
        runtime: "crate::tl".into(),
    };
    let mut code =
        codegen::generate(&refs, &config).unwrap_or_else(|e| fail(&e.error.at(SCHEMAS[e.schema])));
    code.push_str(&format!(
        "\n/// The API layer of `schema/api.tl` (its `// LAYER` line).\npub const LAYER: i32 = {layer};\n"
    ));

    println!("cargo:rerun-if-changed={INDEX}");
    let index = std::fs::read_to_string(INDEX).unwrap_or_else(|e| fail(&format!("{INDEX}: {e}")));
    let history = codegen::layers::parse_index(&index).unwrap_or_else(|e| fail(&e.at(INDEX)));
    let tables = codegen::layers::generate_tables(&history, &schemas[1], "super")
        .unwrap_or_else(|e| fail(&e.at(SCHEMAS[1])));

    let out =
        PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_else(|| fail("OUT_DIR is not set")));
    write_if_changed(&out.join("tl_generated.rs"), &code);
    write_if_changed(&out.join("tl_layers.rs"), &tables);
}

/// Rewrites only on change, so that an unchanged schema does not recompile the crate.
fn write_if_changed(path: &std::path::Path, code: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(code) {
        std::fs::write(path, code).unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
    }
}
