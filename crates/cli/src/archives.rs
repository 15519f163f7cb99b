//! Players' save archives: listed by game or player, pinned against the keep-newest rule,
//! tagged, deleted.

use clap::Subcommand;
use playrack_wire::api::{Archive, UpdateArchive};
use reqwest::Method;

use crate::api::CliError;
use crate::output::{show, table};
use crate::{game_id, signed_in};

#[derive(Debug, Subcommand)]
pub enum ArchivesCmd {
    /// Lists saves, newest first.
    List {
        /// Only this game's (id or slug).
        #[arg(long)]
        game: Option<String>,
        /// Only this player's (`device:<digest>` or `user:<id>`).
        #[arg(long)]
        user: Option<String>,
        /// Operators: one tenant's only.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Keeps a save whatever the keep-newest rule says.
    Pin { id: String },
    /// Lets the keep-newest rule delete a save again.
    Unpin { id: String },
    /// Sets a save's tag (`""` clears it).
    Tag { id: String, tag: String },
    /// Deletes a save.
    Delete { id: String },
}

fn row(a: &Archive) -> Vec<String> {
    vec![
        a.id.clone(),
        a.game_id.clone(),
        a.user.clone(),
        format!("{} KiB", a.size_bytes.div_ceil(1024)),
        a.tag.clone().unwrap_or_default(),
        if a.pinned { "yes" } else { "no" }.into(),
        a.created_at.to_string(),
    ]
}

const HEADER: [&str; 7] = ["ID", "GAME", "PLAYER", "SIZE", "TAG", "PINNED", "SAVED"];

pub async fn run(cmd: ArchivesCmd, json: bool) -> Result<(), CliError> {
    let (api, _) = signed_in()?;
    let (id, update) = match cmd {
        ArchivesCmd::List { game, user, tenant } => {
            let mut query = Vec::new();
            if let Some(g) = game {
                query.push(("game_id", game_id(&api, &g).await?));
            }
            if let Some(u) = user {
                query.push(("user", u));
            }
            if let Some(t) = tenant {
                query.push(("tenant_id", t));
            }
            let list: Vec<Archive> = api.all_with("/v1/archives", &query).await?;
            show(json, &list, |l| table(&HEADER, l.iter().map(row).collect()));
            return Ok(());
        }
        ArchivesCmd::Delete { id } => {
            api.call::<(), serde_json::Value>(Method::DELETE, &format!("/v1/archives/{id}"), None)
                .await?;
            show(json, &serde_json::json!({ "deleted": id }), |_| {
                println!("save {id} deleted")
            });
            return Ok(());
        }
        ArchivesCmd::Pin { id } => (
            id,
            UpdateArchive {
                pinned: Some(true),
                tag: None,
            },
        ),
        ArchivesCmd::Unpin { id } => (
            id,
            UpdateArchive {
                pinned: Some(false),
                tag: None,
            },
        ),
        ArchivesCmd::Tag { id, tag } => (
            id,
            UpdateArchive {
                pinned: None,
                tag: Some(tag),
            },
        ),
    };
    let a: Archive = api
        .call(Method::PATCH, &format!("/v1/archives/{id}"), Some(&update))
        .await?;
    show(json, &a, |a| table(&HEADER, vec![row(a)]));
    Ok(())
}
