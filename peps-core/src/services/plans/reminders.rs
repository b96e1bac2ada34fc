//! Reminders of due dates, for a cron job.

use super::*;

impl Plans {
    /// Reminds persons of steps due within the configured number of days. Safe to run as
    /// often as one likes (a cron job): each due date is reminded once.
    pub async fn remind_due(&self) -> CoreResult<DueReport> {
        let now = self.now();
        let today = now.date_naive();
        let until = today + chrono::Duration::days(i64::from(self.settings.due_reminder_days));
        let steps = self.ports.plans.steps_due(today, until).await?;
        let mut report = DueReport::default();
        // One notice per person, with their soonest date.
        let mut soonest: HashMap<AccountId, chrono::NaiveDate> = HashMap::new();
        let mut plans: HashMap<PlanId, AccountId> = HashMap::new();
        for step in steps {
            let Some(due_on) = step.due_on else { continue };
            if !self
                .ports
                .plans
                .record_due_reminder(step.id, due_on, now)
                .await?
            {
                report.already_reminded += 1;
                continue;
            }
            let person = match plans.get(&step.plan) {
                Some(p) => *p,
                None => {
                    let p = self.ports.plans.plan(step.plan).await?.person;
                    plans.insert(step.plan, p);
                    p
                }
            };
            let entry = soonest.entry(person).or_insert(due_on);
            *entry = (*entry).min(due_on);
        }
        for (person, due_on) in soonest {
            let account = self.ports.accounts.account(person).await?;
            match self
                .channels
                .tell_person(&account, PersonNotice::DueSoon(due_on))
                .await
            {
                Delivery::Email | Delivery::Sms => report.reminded += 1,
                Delivery::NoChannel => report.no_channel += 1,
                Delivery::Failed => report.failed += 1,
            }
        }
        Ok(report)
    }
}
