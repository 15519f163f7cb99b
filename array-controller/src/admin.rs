//! Administration from the command line, against the configured database, with no server
//! running: `array-controller admin create-operator` gives a fresh platform its first
//! operator (nothing else can: accounts are created by signed-in operators and tenant
//! admins), and `--migrate-only` brings the schema up to date before new replicas start.
//!
//! The password never appears on a command line (where `ps` and shell histories would keep
//! it): it comes from a prompt without echo, standard input or a file.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use anyhow::{Context, bail};
use playrack_wire::api::Role;

use crate::db::{self, Db};
use crate::error::ApiError;
use crate::store::accounts::{self, NewAccount};

/// Where `create-operator` reads the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// Asked twice on the terminal, without echo.
    Prompt,
    /// The first line of standard input.
    Stdin,
    /// The first line of a file.
    File(PathBuf),
}

/// Reads the password from `source` (its first line, the line break dropped).
pub fn read_password(source: &PasswordSource) -> anyhow::Result<String> {
    let first_line = |text: &str| text.lines().next().unwrap_or("").to_owned();
    match source {
        PasswordSource::File(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the password from {}", path.display()))?;
            Ok(first_line(&text))
        }
        PasswordSource::Stdin => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            Ok(first_line(&line))
        }
        PasswordSource::Prompt => {
            if !std::io::stdin().is_terminal() {
                bail!(
                    "no terminal to ask for the password on: pass --password-stdin or --password-file"
                );
            }
            let first = rpassword::prompt_password("Password for the new operator: ")?;
            let again = rpassword::prompt_password("The same password again: ")?;
            if first != again {
                bail!("the two passwords differ; nothing was created");
            }
            Ok(first)
        }
    }
}

/// Creates an operator admin account with `email` and `password` and audits it (actor
/// `system`); returns the account's id. Refuses an email already taken, and a password or email
/// the API would refuse, saying what to fix.
pub async fn create_operator(db: &Db, email: &str, password: &str) -> anyhow::Result<String> {
    let email = crate::api::accounts::validate_email(email).map_err(message)?;
    crate::auth::validate_password(password).map_err(message)?;
    let password = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || crate::auth::hash_password(&password)).await?;
    let id = db::new_id("acc");
    let mut tx = db.write().await?;
    let account = NewAccount {
        id: &id,
        email: &email,
        password_hash: &hash,
        role: Role::OperatorAdmin,
        tenant_id: None,
        created_at: crate::now().millis(),
    };
    if let Err(e) = accounts::insert_account(&mut tx, &account).await {
        return Err(match ApiError::from(e) {
            ApiError::Conflict { .. } => anyhow::anyhow!(
                "an account with the email {email} exists already: sign in with it, or choose another email"
            ),
            other => anyhow::anyhow!("creating the account: {other}"),
        });
    }
    crate::audit::record_as(
        &mut tx,
        "system",
        None,
        "account.create",
        &id,
        serde_json::json!({"email": email, "role": Role::OperatorAdmin.as_str(), "via": "command line"}),
    )
    .await
    .map_err(message)?;
    tx.commit().await?;
    Ok(id)
}

fn message(e: ApiError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_operator_is_created_once_with_a_valid_email_and_password() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/c.db?mode=rwc", dir.path().display());
        let db = Db::connect(&url).await.unwrap();
        let err = create_operator(&db, "not an email", "long enough password")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("is not an email address"), "{err}");
        let err = create_operator(&db, "ops@example.com", "short")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("at least"), "{err}");
        let id = create_operator(&db, " Ops@Example.com ", "long enough password")
            .await
            .unwrap();
        assert!(id.starts_with("acc_"));
        let err = create_operator(&db, "ops@example.com", "another long password")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("exists already"), "{err}");

        let file = dir.path().join("pw");
        std::fs::write(&file, "secret line\nignored\n").unwrap();
        assert_eq!(
            read_password(&PasswordSource::File(file)).unwrap(),
            "secret line"
        );
        assert!(read_password(&PasswordSource::File(dir.path().join("missing"))).is_err());
    }
}
