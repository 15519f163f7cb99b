//! Grey releases of a game: show the one under way with the versions' figures side by side,
//! start or change it (a newer deployed version to a share of the players, optionally one
//! link's or campaign's), and end it by promoting the version or rolling it back.

use clap::{Subcommand, ValueEnum};
use playrack_wire::api::{EndGreyRelease, GreyOutcome, GreyRelease, GreyView, SetGreyRelease};
use reqwest::Method;

use crate::api::CliError;
use crate::output::{show, table};
use crate::{game_id, signed_in};

#[derive(Debug, Subcommand)]
pub enum GreyCmd {
    /// The game's grey release, if any, and each version's ended plays side by side.
    Show { game: String },
    /// Sends `--percent` of the game's players to a newer version that is deployed; run again
    /// to change the share (players already on it stay).
    Start {
        game: String,
        version: String,
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..=100))]
        percent: u8,
        /// Only players who come through this link.
        #[arg(long)]
        link: Option<String>,
        /// Only players who come through a link of this campaign.
        #[arg(long)]
        campaign: Option<String>,
    },
    /// Ends the release: `promote` publishes the version to everyone, `rollback` sends everyone
    /// back to the published version.
    End {
        game: String,
        #[arg(value_enum)]
        outcome: Outcome,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Outcome {
    Promote,
    Rollback,
}

fn print_view(v: &GreyView) {
    match &v.release {
        Some(r) => println!("{}", describe(r)),
        None => println!("no grey release under way"),
    }
    table(
        &[
            "VERSION",
            "PLAYS",
            "CRASHES",
            "CRASH RATE",
            "MEAN PLAY (S)",
            "MEAN LATENCY (MS)",
        ],
        v.versions
            .iter()
            .map(|f| {
                vec![
                    f.version_id.clone(),
                    f.plays.to_string(),
                    f.crashes.to_string(),
                    format!("{:.1} %", f.crash_rate * 100.0),
                    format!("{:.1}", f.mean_play_secs),
                    f.mean_latency_ms.map_or("—".into(), |m| format!("{m:.1}")),
                ]
            })
            .collect(),
    );
}

fn describe(r: &GreyRelease) -> String {
    let mut s = format!("{} goes to {} % of the players", r.version_id, r.percent);
    if let Some(l) = &r.link_id {
        s.push_str(&format!(" of link {l}"));
    }
    if let Some(c) = &r.campaign {
        s.push_str(&format!(" of campaign {c}"));
    }
    if let Some(stable) = &r.stable_version_id {
        s.push_str(&format!("; the rest play {stable}"));
    }
    s
}

pub async fn run(cmd: GreyCmd, json: bool) -> Result<(), CliError> {
    let (api, _) = signed_in()?;
    match cmd {
        GreyCmd::Show { game } => {
            let id = game_id(&api, &game).await?;
            let v: GreyView = api.get(&format!("/v1/games/{id}/grey")).await?;
            show(json, &v, print_view);
        }
        GreyCmd::Start {
            game,
            version,
            percent,
            link,
            campaign,
        } => {
            let id = game_id(&api, &game).await?;
            let body = SetGreyRelease {
                version_id: version,
                percent,
                link_id: link,
                campaign,
            };
            let r: GreyRelease = api
                .call(Method::PUT, &format!("/v1/games/{id}/grey"), Some(&body))
                .await?;
            show(json, &r, |r| println!("{}", describe(r)));
        }
        GreyCmd::End { game, outcome } => {
            let id = game_id(&api, &game).await?;
            let outcome = match outcome {
                Outcome::Promote => GreyOutcome::Promote,
                Outcome::Rollback => GreyOutcome::Rollback,
            };
            let v: GreyView = api
                .call(
                    Method::POST,
                    &format!("/v1/games/{id}/grey/end"),
                    Some(&EndGreyRelease { outcome }),
                )
                .await?;
            show(json, &v, |v| {
                match outcome {
                    GreyOutcome::Promote => println!("promoted: every player gets the version"),
                    GreyOutcome::Rollback => {
                        println!("rolled back: every player gets the published version")
                    }
                }
                print_view(v)
            });
        }
    }
    Ok(())
}
