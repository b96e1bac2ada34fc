//! A step's message thread: the person asks, a worker answers.

use super::*;
use crate::plans::PlanAction;

impl Plans {
    pub async fn messages(
        &self,
        actor: &Actor,
        id: PlanId,
        step_id: StepId,
    ) -> CoreResult<Vec<ThreadMessage>> {
        let access = self.access(actor, id, Action::DiscussStep).await?;
        self.step_of(&access.plan, step_id).await?;
        let messages = self.ports.plans.messages(step_id).await?;
        let mut names = Names::default();
        let mut thread = Vec::with_capacity(messages.len());
        for message in messages {
            let author_name = names.of(self, message.author).await?;
            thread.push(ThreadMessage {
                message,
                author_name,
            });
        }
        Ok(thread)
    }

    /// The person asks a question on a step, or a worker answers; the other side is told.
    pub async fn post_message(
        &self,
        actor: &Actor,
        id: PlanId,
        step_id: StepId,
        body: &str,
    ) -> CoreResult<ThreadMessage> {
        let access = self.access(actor, id, Action::DiscussStep).await?;
        self.step_of(&access.plan, step_id).await?;
        let body = check_message(body)?;
        let message = StepMessage {
            id: StepMessageId::new(),
            plan: id,
            step: step_id,
            author: actor.account,
            author_role: actor.role,
            body,
            at: self.now(),
        };
        let mut event = self.event(
            actor,
            id,
            Some(step_id),
            PlanAction::MessagePosted,
            serde_json::json!({ "message": message.id }),
        );
        event.outbox = self
            .other_side(actor, &access.plan, PersonNotice::Message)
            .await?;
        self.ports.plans.add_message(&message, &event).await?;
        let author_name = self
            .ports
            .accounts
            .account(actor.account)
            .await?
            .display_name
            .as_str()
            .to_owned();
        Ok(ThreadMessage {
            message,
            author_name,
        })
    }
}
