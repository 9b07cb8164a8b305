//! Running the fleet commands: a runtime, a connection, the library call, and what
//! to print. Exit codes: 0 done; 1 when `ingest --once` quarantined a bundle; 2 on
//! any error (the caller prints it).

use anyhow::Context as _;
use kenshin_fleet::{bundle::Bundle, ingest, push, report, rollup, schema, sites};
use kenshin_report::seal::{default_key_path, SigningKey};

use super::{FleetCommand, IngestArgs, PushArgs, ReportArgs, SensorCommand};
use crate::say::{json, say};

pub(crate) fn run(command: FleetCommand) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_async(command))
}

async fn run_async(command: FleetCommand) -> anyhow::Result<u8> {
    match command {
        FleetCommand::Init(db) => {
            let conn = db.connect();
            let mut client = kenshin_fleet::connect(&conn).await?;
            let outcome = schema::init(&mut client, &conn.shown()).await?;
            if outcome.applied.is_empty() {
                say!(
                    "fleet schema at {}: version {}, up to date",
                    conn.shown(),
                    outcome.to
                );
            } else {
                say!(
                    "fleet schema at {}: version {} → {} ({})",
                    conn.shown(),
                    outcome.from,
                    outcome.to,
                    outcome.applied.join(", ")
                );
            }
            Ok(0)
        }
        FleetCommand::Sensor(command) => sensor(command).await,
        FleetCommand::Push(args) => push_all(args).await,
        FleetCommand::Ingest(args) => ingest_cmd(args).await,
        FleetCommand::Report(args) => report_cmd(args).await,
    }
}

async fn sensor(command: SensorCommand) -> anyhow::Result<u8> {
    match command {
        SensorCommand::Add(args) => {
            sites::check_site(&args.sensor.site)?;
            sites::check_key(&args.sensor.key)?;
            let conn = args.sensor.db.connect();
            let mut client = kenshin_fleet::connect(&conn).await?;
            schema::check(&client, &conn.shown()).await?;
            let done = sites::add(
                &mut client,
                &conn.shown(),
                &args.sensor.site,
                &args.sensor.key,
                args.role.as_deref(),
                args.organisation.as_deref(),
            )
            .await?;
            if done.site_created {
                say!(
                    "site {} created; its sensors log in as role {} (the CN of their client certificate)",
                    done.site,
                    done.role
                );
            }
            if done.key_added {
                say!("key {} enrolled for site {}", args.sensor.key, done.site);
            } else {
                say!(
                    "key {} was already enrolled for site {}",
                    args.sensor.key,
                    done.site
                );
            }
            Ok(0)
        }
        SensorCommand::List(args) => {
            let conn = args.db.connect();
            let client = kenshin_fleet::connect(&conn).await?;
            schema::check(&client, &conn.shown()).await?;
            let list = sites::list(&client, &conn.shown(), args.site.as_deref()).await?;
            if args.json {
                println!("{}", json(&list)?);
            } else {
                for s in &list {
                    let state = match &s.revoked_at {
                        Some(at) => format!("revoked {at}"),
                        None => "active".to_owned(),
                    };
                    say!(
                        "{}\t{}\t{}\tadded {}\t{state}",
                        s.site,
                        s.role,
                        s.key,
                        s.added_at
                    );
                }
            }
            Ok(0)
        }
        SensorCommand::Revoke(args) => {
            sites::check_site(&args.site)?;
            sites::check_key(&args.key)?;
            let conn = args.db.connect();
            let client = kenshin_fleet::connect(&conn).await?;
            schema::check(&client, &conn.shown()).await?;
            if sites::revoke(&client, &conn.shown(), &args.site, &args.key).await? {
                say!("key {} revoked for site {}", args.key, args.site);
            } else {
                say!(
                    "key {} was already revoked for site {}",
                    args.key,
                    args.site
                );
            }
            Ok(0)
        }
    }
}

/// Pushes each folder on its own; one that fails is named and the rest still go.
async fn push_all(args: PushArgs) -> anyhow::Result<u8> {
    let conn = args.db.connect();
    let shown = conn.shown();
    // Read every folder first: a folder that is not a sealed report is named before
    // anything is sent.
    let bundles = args
        .dirs
        .iter()
        .map(|dir| Bundle::read(dir).map(|b| (dir, b)))
        .collect::<Result<Vec<_>, _>>()?;
    let client = kenshin_fleet::connect(&conn).await?;
    schema::check(&client, &shown).await?;
    let mut failed = 0usize;
    for (dir, bundle) in &bundles {
        match push::push(&client, &shown, bundle, args.site.as_deref()).await {
            Ok(r) if r.already_received => say!(
                "{}: scan {} of site {} was already received (inbox {}, {}); not sent again",
                dir.display(),
                r.scan_id,
                r.site,
                r.inbox_id,
                r.state
            ),
            Ok(r) => say!(
                "{}: scan {} pushed for site {} (inbox {}, {} files, {} bytes)",
                dir.display(),
                r.scan_id,
                r.site,
                r.inbox_id,
                bundle.files.len(),
                bundle.bytes()
            ),
            Err(e) => {
                failed += 1;
                eprintln!(
                    "kenshin: error: {}: {}",
                    kenshin_report::visible(&dir.display().to_string()),
                    kenshin_report::visible(&e.to_string())
                );
            }
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} folders were not pushed", bundles.len());
    }
    Ok(0)
}

async fn ingest_cmd(args: IngestArgs) -> anyhow::Result<u8> {
    let conn = args.db.connect();
    let shown = conn.shown();
    let print = |h: &ingest::Handled| {
        if args.json {
            match serde_json::to_string(h) {
                Ok(line) => println!("{}", kenshin_report::screen::json_visible(&line)),
                Err(e) => eprintln!("kenshin: error: {e}"),
            }
        } else {
            say!("{}", ingest::describe(h));
        }
    };
    if args.once {
        let mut client = kenshin_fleet::connect(&conn).await?;
        schema::check(&client, &shown).await?;
        let handled = ingest::once(&mut client, &shown).await?;
        handled.iter().for_each(print);
        let quarantined = handled
            .iter()
            .any(|h| matches!(h, ingest::Handled::Quarantined { .. }));
        return Ok(u8::from(quarantined));
    }
    let (mut client, mut notices) = kenshin_fleet::connect::connect_listening(&conn).await?;
    schema::check(&client, &shown).await?;
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    ingest::watch(&mut client, &shown, &mut notices, stop, print).await?;
    Ok(0)
}

async fn report_cmd(args: ReportArgs) -> anyhow::Result<u8> {
    if !args.json && args.output.is_none() {
        anyhow::bail!(
            "say where the report goes: --json for stdout, or -o DIR for a sealed folder"
        );
    }
    // The key first: a folder is never begun that could not be sealed.
    let key = match &args.output {
        Some(_) => {
            let path = args.signing_key.clone().unwrap_or_else(default_key_path);
            Some(SigningKey::load_or_create(&path)?)
        }
        None => None,
    };
    let conn = args.db.connect();
    let shown = conn.shown();
    let client = kenshin_fleet::connect(&conn).await?;
    schema::check(&client, &shown).await?;
    let rollup = rollup::read(&client, &shown, args.stale_days).await?;
    if args.json {
        print!(
            "{}",
            kenshin_report::screen::json_visible(&report::json(&rollup)?)
        );
    }
    if let (Some(dir), Some(key)) = (&args.output, &key) {
        let written = report::write_folder(dir, &rollup, args.lang.into(), key)?;
        eprintln!(
            "kenshin: fleet report written to {} ({} files, sealed with {})",
            kenshin_report::visible(&dir.display().to_string()),
            written.files,
            key.public().fingerprint()
        );
    }
    Ok(0)
}
