//! Bills: list a tenant's closed bills (or, for operators, every tenant's of one period), show
//! one with its lines (`current` is the open period's statement), and export one as CSV or
//! JSON, exactly as the controller computes them.

use clap::{Subcommand, ValueEnum};
use playrack_wire::api::{Bill, BillItemKind, BillState, Page};
use reqwest::Method;
use std::path::PathBuf;

use crate::api::CliError;
use crate::operator::tenant_id;
use crate::output::{show, table};
use crate::signed_in;

#[derive(Debug, Subcommand)]
pub enum BillsCmd {
    /// Closed bills: yours, or (operators) one tenant's with `--tenant`, else every tenant's of
    /// the newest period billed (or of `--period`).
    List {
        /// The tenant (id or name; operators).
        #[arg(long)]
        tenant: Option<String>,
        /// The period's start, RFC 3339 (operators, every tenant).
        #[arg(long)]
        period: Option<String>,
    },
    /// One bill with its lines; `current` is the open period's statement.
    Show {
        #[arg(default_value = "current")]
        id: String,
        /// Whose (operators, for `current`).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// One bill as a file: a CSV row per line and a total row (micro-units), or JSON.
    Export {
        #[arg(default_value = "current")]
        id: String,
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// Whose (operators, for `current`).
        #[arg(long)]
        tenant: Option<String>,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

/// Micro-units as a decimal amount with the currency.
fn amount(micros: i64, currency: &str) -> String {
    format!("{:.2} {currency}", micros as f64 / 1e6)
}

fn minutes(secs: u64) -> String {
    format!("{:.2}", secs as f64 / 60.0)
}

fn list_rows(bills: &[Bill]) -> Vec<Vec<String>> {
    bills
        .iter()
        .map(|b| {
            vec![
                b.id.clone(),
                b.tenant_id.clone(),
                format!("{} – {}", b.period_start, b.period_end),
                minutes(b.usage_secs),
                amount(b.total_micros, &b.currency),
            ]
        })
        .collect()
}

fn print_bill(b: &Bill) {
    let state = match b.state {
        BillState::Open => "open (the period is under way)".to_owned(),
        BillState::Closed => format!(
            "closed {}",
            b.closed_at.map(|t| t.to_string()).unwrap_or_default()
        ),
    };
    println!(
        "{}  {}  {} – {}  {state}",
        b.id, b.tenant_id, b.period_start, b.period_end
    );
    table(
        &[
            "LINE",
            "SPEC",
            "SESSIONS",
            "QUANTITY",
            "UNIT PRICE",
            "AMOUNT",
            "REFERENCE",
        ],
        b.items
            .iter()
            .map(|i| {
                let (kind, quantity, unit) = match i.kind {
                    BillItemKind::Usage => {
                        ("usage", format!("{} min", minutes(i.quantity)), "/min")
                    }
                    BillItemKind::Late => ("late", format!("{} min", minutes(i.quantity)), "/min"),
                    BillItemKind::Concurrency => (
                        "concurrency",
                        format!("{} × {} min", i.quantity, minutes(i.covered_secs)),
                        "/unit/period",
                    ),
                };
                let reference = [&i.order_id, &i.session_id, &i.late_from_bill_id]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" from ");
                vec![
                    kind.to_owned(),
                    i.spec_id.clone(),
                    i.sessions.to_string(),
                    quantity,
                    format!("{}{unit}", amount(i.unit_price_micros, &b.currency)),
                    amount(i.amount_micros, &b.currency),
                    reference,
                ]
            })
            .collect(),
    );
    println!(
        "play {} min: {}; concurrency: {}; total: {}",
        minutes(b.usage_secs),
        amount(b.usage_micros, &b.currency),
        amount(b.concurrency_micros, &b.currency),
        amount(b.total_micros, &b.currency)
    );
}

pub async fn run(cmd: BillsCmd, json: bool) -> Result<(), CliError> {
    let (api, _) = signed_in()?;
    match cmd {
        BillsCmd::List { tenant, period } => {
            let mut query = vec![("limit", "200".to_owned())];
            if let Some(t) = tenant {
                query.push(("tenant_id", tenant_id(&api, &t).await?));
            }
            if let Some(p) = period {
                query.push(("period_start", p));
            }
            let page: Page<Bill> = api.get_with("/v1/bills", &query).await?;
            show(json, &page.items, |items| {
                table(
                    &["ID", "TENANT", "PERIOD", "PLAY MIN", "TOTAL"],
                    list_rows(items),
                )
            });
        }
        BillsCmd::Show { id, tenant } => {
            let mut query = Vec::new();
            if let Some(t) = tenant {
                query.push(("tenant_id", tenant_id(&api, &t).await?));
            }
            let b: Bill = api.get_with(&format!("/v1/bills/{id}"), &query).await?;
            show(json, &b, print_bill);
        }
        BillsCmd::Export {
            id,
            format,
            tenant,
            output,
        } => {
            let mut query = vec![(
                "format",
                match format {
                    Format::Csv => "csv",
                    Format::Json => "json",
                }
                .to_owned(),
            )];
            if let Some(t) = tenant {
                query.push(("tenant_id", tenant_id(&api, &t).await?));
            }
            let req = api
                .request(Method::GET, &format!("/v1/bills/{id}/export"))
                .query(&query);
            let body = api
                .send(req)
                .await?
                .bytes()
                .await
                .map_err(|e| CliError::Other(anyhow::anyhow!("reading the export: {e}")))?;
            match output {
                Some(path) => {
                    std::fs::write(&path, &body).map_err(|e| {
                        CliError::Usage(format!("cannot write {}: {e}", path.display()))
                    })?;
                    eprintln!("wrote {} ({} bytes)", path.display(), body.len());
                }
                None => {
                    use std::io::Write;
                    std::io::stdout()
                        .write_all(&body)
                        .map_err(|e| CliError::Other(e.into()))?;
                }
            }
        }
    }
    Ok(())
}
