//! Group membership: the plan's member adds and removes of one wave, batched per group (`units`) into Tableau's bulk
//! methods (Add Users to Group and Remove Users from Group, API 3.21) when the client's API version has them, so a
//! group of 50 new members costs one request instead of 50. Each member is still its own action, with its own
//! audit records and outcome; when a bulk request is refused (one member already in the group, or one user gone),
//! the batch falls back to one request per member, which places the error on the member it belongs to and keeps
//! the idempotent single-member semantics (already a member, already removed: the desired state holds).

use std::time::Instant;

use tabops_plan::PlannedAction;
use tabops_plan::plan::Operation;
use tabops_tableau as api;

use super::{ActionOutcome, Executor, ignore_missing};
use crate::error::{ActionError, ApplyError};

/// A started member action with its resolved ids.
struct Member<'p> {
    action: &'p PlannedAction,
    began: Instant,
    group: String,
    user: String,
}

impl Executor<'_> {
    /// Runs the member adds (`add`) or removes of one group: one bulk request for all of them, or, when it is
    /// refused or its outcome is unknown, one request per member.
    pub(super) async fn run_members(
        &self,
        add: bool,
        actions: &[&PlannedAction],
    ) -> Vec<Result<ActionOutcome, ApplyError>> {
        let mut results = Vec::with_capacity(actions.len());
        let started: Vec<Member<'_>> = self
            .start_batch(actions, |action| self.member_ids(action), &mut results)
            .into_iter()
            .map(|(action, began, (group, user))| Member { action, began, group, user })
            .collect();
        let Some(first) = started.first() else { return results };
        let group = first.group.clone();
        let users: Vec<String> = started.iter().map(|m| m.user.clone()).collect();
        let (bulk, retries) = api::record_retries(async {
            if add {
                self.client.add_group_members(&group, &users).await.map(|_| ())
            } else {
                self.client.remove_group_members(&group, &users).await
            }
        })
        .await;
        match bulk {
            Ok(()) => {
                for member in &started {
                    results.push(
                        self.finish(member.action, Ok(None), member.began.elapsed(), &retries)
                            .map_err(ApplyError::from),
                    );
                }
            }
            Err(err) => {
                tracing::info!(%group, error = %err, "bulk membership request refused; one request per member");
                for member in &started {
                    let (result, mut own) = api::record_retries(async {
                        if add {
                            self.add_member(&member.group, &member.user).await
                        } else {
                            self.remove_member(&member.group, &member.user).await
                        }
                    })
                    .await;
                    own.splice(0..0, retries.iter().cloned());
                    results.push(
                        self.finish(member.action, result, member.began.elapsed(), &own).map_err(ApplyError::from),
                    );
                }
            }
        }
        results
    }

    /// The live group and user ids of a member add or remove.
    fn member_ids(&self, action: &PlannedAction) -> Result<(String, String), ActionError> {
        match &action.operation {
            Operation::AddMember { group, user } => Ok((self.resolve(group)?, self.resolve(user)?)),
            Operation::RemoveMember { group, user } => Ok((group.clone(), user.clone())),
            _ => unreachable!("only member adds and removes are batched"),
        }
    }

    /// Adds one member. Already a member (409011, e.g. after a lost response): the desired state holds.
    pub(super) async fn add_member(&self, group: &str, user: &str) -> Result<Option<String>, ActionError> {
        match self.client.add_group_member(group, user).await {
            Ok(_) => Ok(None),
            Err(err) if err.is_conflict() => Ok(None),
            Err(err) if err.is_ambiguous() => {
                let members = self.client.group_members(group).await?;
                if members.iter().any(|m| m.id == user) { Ok(None) } else { Err(err.into()) }
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Removes one member; one already gone has reached the desired state.
    pub(super) async fn remove_member(&self, group: &str, user: &str) -> Result<Option<String>, ActionError> {
        ignore_missing(self.client.remove_group_member(group, user).await).map(|()| None)
    }
}
