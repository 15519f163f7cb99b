//! Degrade switches (operators): list those that are on, turn one on for the platform, a region,
//! a room or a tenant, and off again.

use clap::Subcommand;
use playrack_wire::api::{SetSwitch, Switch, SwitchName, SwitchScope};
use reqwest::Method;

use crate::api::CliError;
use crate::output::{show, table};
use crate::signed_in;

#[derive(Debug, Subcommand)]
pub enum SwitchesCmd {
    /// Lists the switches that are on.
    List,
    /// Turns a switch on: `new_plays` (players queue until it is off), `spectators`,
    /// `webhooks` (deliveries wait), `archives` (no saves restored or kept) or `lowest_spec`
    /// (new plays at the game's lowest spec).
    On {
        #[arg(value_parser = name_arg)]
        name: SwitchName,
        /// `platform`, `region:<id>`, `room:<id>` or `tenant:<id>`.
        #[arg(long, default_value = "platform", value_parser = scope_arg)]
        scope: SwitchScope,
        /// Why, for the other operators.
        #[arg(long)]
        note: Option<String>,
    },
    /// Turns a switch off; what it held back resumes at once.
    Off {
        #[arg(value_parser = name_arg)]
        name: SwitchName,
        #[arg(long, default_value = "platform", value_parser = scope_arg)]
        scope: SwitchScope,
    },
}

fn name_arg(s: &str) -> Result<SwitchName, String> {
    SwitchName::parse(s).ok_or_else(|| {
        let names: Vec<&str> = SwitchName::ALL.iter().map(|n| n.as_str()).collect();
        format!("`{s}` is not a switch: give one of {}", names.join(", "))
    })
}

fn scope_arg(s: &str) -> Result<SwitchScope, String> {
    SwitchScope::parse(s)
}

pub async fn run(cmd: SwitchesCmd, json: bool) -> Result<(), CliError> {
    let (api, _) = signed_in()?;
    match cmd {
        SwitchesCmd::List => {
            let on: Vec<Switch> = api.get("/v1/switches").await?;
            show(json, &on, |on| {
                if on.is_empty() {
                    println!("no switch is on");
                    return;
                }
                table(
                    &["SWITCH", "SCOPE", "SINCE", "BY", "NOTE"],
                    on.iter()
                        .map(|s| {
                            vec![
                                s.name.as_str().into(),
                                s.scope.clone(),
                                s.since.to_string(),
                                s.by.clone(),
                                s.note.clone().unwrap_or_default(),
                            ]
                        })
                        .collect(),
                )
            });
        }
        SwitchesCmd::On { name, scope, note } => {
            let body = SetSwitch {
                name,
                scope: scope.to_string(),
                note,
            };
            let s: Switch = api.call(Method::PUT, "/v1/switches", Some(&body)).await?;
            show(json, &s, |s| {
                println!(
                    "{} is on for {} (every controller within a second)",
                    s.name.as_str(),
                    s.scope
                )
            });
        }
        SwitchesCmd::Off { name, scope } => {
            let mut u =
                reqwest::Url::parse("http://switches.invalid/v1/switches").expect("a literal URL");
            u.path_segments_mut()
                .expect("an http URL has segments")
                .push(name.as_str());
            u.query_pairs_mut().append_pair("scope", &scope.to_string());
            let path = format!("{}?{}", u.path(), u.query().unwrap_or_default());
            api.call::<(), serde_json::Value>(Method::DELETE, &path, None)
                .await?;
            let off = serde_json::json!({ "name": name.as_str(), "scope": scope.to_string(), "on": false });
            show(json, &off, |_| {
                println!("{} is off for {scope}", name.as_str())
            });
        }
    }
    Ok(())
}
