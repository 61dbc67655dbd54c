//! `meent tiles --data DIR --out DIR`: write the log as a static C2SP
//! tlog-tiles copy any web server can serve, and update it incrementally
//! (docs/TILES.md). Also the tiles reader behind `meent verify --tiles`.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::Args;
use ledger::store::sled_store::SledStore;
use ledger::tiles::audit::{DirReader, TileReader};
use ledger::tiles::copy;

use crate::exit::{CmdError, CmdResult};
use crate::progress;

/// Arguments of `meent tiles`.
#[derive(Debug, Args)]
pub struct TilesArgs {
    /// The data directory (the server must not be running on it).
    #[arg(long)]
    data: PathBuf,
    /// The directory to write the copy into (made if missing; a copy already
    /// there is updated: only new tiles are written).
    #[arg(long)]
    out: PathBuf,
}

/// Write or update the copy.
pub fn run(a: TilesArgs) -> CmdResult {
    let store = open_store(&a.data)?;
    let (note, tiles) = copy::store_checkpoint(&store).map_err(|e| CmdError::failed(anyhow!("{e}")))?;
    let bar = progress::bar(tiles.size(), "writing tiles");
    std::fs::create_dir_all(&a.out)
        .map_err(|e| CmdError::io(anyhow!("cannot make the directory {}: {e}", a.out.display())))?;
    let report = copy::update(&tiles, &note, &a.out, &mut |done, _| bar.set_position(done));
    bar.finish_and_clear();
    let report = report.map_err(|e| match e {
        copy::CopyError::Io { .. } => CmdError::io(anyhow!("{e}")),
        _ => CmdError::failed(anyhow!("{e}")),
    })?;
    if report.old_size == report.size {
        println!("up to date: {} records of the log in {}", report.size, a.out.display());
    } else {
        println!(
            "{} records in {} (was {}): {} tiles and bundles written, {} partial tiles removed",
            report.size,
            a.out.display(),
            report.old_size,
            report.written,
            report.removed_partials
        );
    }
    Ok(())
}

fn open_store(d: &Path) -> CmdResult<SledStore> {
    if !ledger::log::store_path(d).exists() {
        return Err(CmdError::input(anyhow!("{} holds no meent ledger", d.display())));
    }
    SledStore::open(&ledger::log::store_path(d)).map_err(|e| {
        crate::exit::store_error(
            d,
            anyhow!(
                "cannot open the store in {}: {e} (stop the server, or copy the tiles it serves under /tiles)",
                d.display()
            ),
        )
    })
}

/// Tiles read over HTTP(S) from a URL prefix (`http://host/tiles`).
pub struct HttpTiles {
    prefix: String,
    http: reqwest::blocking::Client,
}

impl TileReader for HttpTiles {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        let url = format!("{}/{path}", self.prefix);
        let resp = self.http.get(&url).send().map_err(|e| format!("GET {url}: {e}"))?;
        match resp.status().as_u16() {
            404 | 410 => Ok(None),
            200 => resp.bytes().map(|b| Some(b.to_vec())).map_err(|e| format!("GET {url}: {e}")),
            s => Err(format!("GET {url}: HTTP {s}")),
        }
    }
}

/// Where `meent verify --tiles` reads: a URL prefix or a directory.
pub enum Tiles {
    /// Over HTTP(S).
    Http(HttpTiles),
    /// A directory (a copy written by `meent tiles`).
    Dir(DirReader),
}

impl Tiles {
    /// `http(s)://…` is a URL prefix; anything else a directory, which must exist.
    pub fn open(location: &str) -> CmdResult<Tiles> {
        if location.starts_with("http://") || location.starts_with("https://") {
            let http = reqwest::blocking::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .map_err(|e| CmdError::io(anyhow!(e).context("cannot make an HTTP client")))?;
            return Ok(Tiles::Http(HttpTiles { prefix: location.trim_end_matches('/').to_string(), http }));
        }
        if location.contains("://") {
            return Err(CmdError::usage(anyhow!(
                "--tiles {location:?}: give an http:// or https:// URL, or a directory"
            )));
        }
        let dir = PathBuf::from(location);
        if !dir.is_dir() {
            return Err(CmdError::input(anyhow!("--tiles {location}: no such directory")));
        }
        Ok(Tiles::Dir(DirReader(dir)))
    }
}

impl TileReader for Tiles {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        match self {
            Tiles::Http(h) => h.read(path),
            Tiles::Dir(d) => d.read(path),
        }
    }
}
