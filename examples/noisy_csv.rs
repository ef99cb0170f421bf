//! Writes seeded noisy queries made from a data directory's addresses as a CSV (`id,地址,expect`),
//! the input of the batch benchmark:
//!
//! ```text
//! cargo run --release --example noisy_csv -- DATA_DIR ROWS SEED OUT.csv
//! ```

use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [data, rows, seed, out] = args.as_slice() else {
        eprintln!("usage: noisy_csv DATA_DIR ROWS SEED OUT.csv");
        std::process::exit(2);
    };
    let dicts = dizhi::Dictionaries::embedded()?;
    let store = dizhi::store::Store::open(std::path::Path::new(data))?;
    let queries = dizhi::eval::noisy::noisy_queries(&store, &dicts, rows.parse()?, seed.parse()?)?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(std::fs::File::create(out)?));
    w.write_record(["id", "地址", "expect"])?;
    for (i, q) in queries.iter().enumerate() {
        let expect = match &q.expected {
            dizhi::eval::noisy::Expected::Address { id } => id.as_str(),
            dizhi::eval::noisy::Expected::NotInLibrary => "not_in_library",
            dizhi::eval::noisy::Expected::Outside => "outside",
        };
        w.write_record([(i + 1).to_string().as_str(), q.text.as_str(), expect])?;
    }
    w.flush()?;
    w.into_inner().map_err(|e| e.to_string())?.flush()?;
    eprintln!("wrote {} queries to {out}", queries.len());
    Ok(())
}
