//! Reminders of due dates and appointments, for a scheduled job.

use chrono::TimeZone;

use super::*;
use crate::outbox::OutboxMessage;

impl Plans {
    /// Reminds persons of steps due within the configured number of days, and of
    /// appointments on the configured day ahead (tomorrow by default), in their language.
    /// Safe to run as often as one likes and from several servers at once: each reminder is
    /// queued under a key naming what it reminds of, and the outbox keeps one message per
    /// key, so a run that crashed half-way and ran again sends each reminder once.
    pub async fn remind_due(&self) -> CoreResult<DueReport> {
        let mut report = DueReport::default();
        self.remind_due_dates(&mut report).await?;
        self.remind_appointments(&mut report).await?;
        Ok(report)
    }

    async fn remind_due_dates(&self, report: &mut DueReport) -> CoreResult<()> {
        let now = self.now();
        let today = now.with_timezone(&self.settings.timezone).date_naive();
        let until = today + chrono::Duration::days(i64::from(self.settings.due_reminder_days));
        let steps = self.ports.plans.steps_due(today, until).await?;
        // One notice per person, with their soonest date.
        let mut soonest: BTreeMap<AccountId, (chrono::NaiveDate, Vec<Step>)> = BTreeMap::new();
        let mut persons: HashMap<PlanId, AccountId> = HashMap::new();
        for step in steps {
            let Some(due_on) = step.due_on else { continue };
            let person = match persons.get(&step.plan) {
                Some(p) => *p,
                None => {
                    let p = self.ports.plans.plan(step.plan).await?.person;
                    persons.insert(step.plan, p);
                    p
                }
            };
            let entry = soonest.entry(person).or_insert((due_on, Vec::new()));
            entry.0 = entry.0.min(due_on);
            entry.1.push(step);
        }
        for (person, (due_on, steps)) in soonest {
            let account = self.ports.accounts.account(person).await?;
            let told = self
                .channels
                .to_person(&account, PersonNotice::DueSoon(due_on))
                .await?;
            // Queued first, then recorded: a crash in between queues nothing twice (the key)
            // and loses nothing (the next run finds the steps unrecorded).
            let keyed: Vec<OutboxMessage> = told
                .messages
                .into_iter()
                .map(|m| m.with_dedupe_key(format!("plans.due:{person}:{due_on}")))
                .collect();
            self.channels.enqueue(&keyed).await?;
            let mut fresh = false;
            for step in &steps {
                if self
                    .ports
                    .plans
                    .record_due_reminder(step.id, step.due_on.unwrap_or(due_on), now)
                    .await?
                {
                    fresh = true;
                } else {
                    report.already_reminded += 1;
                }
            }
            if fresh {
                match told.delivery {
                    Delivery::Email | Delivery::Sms => report.reminded += 1,
                    Delivery::NoChannel => report.no_channel += 1,
                }
            }
        }
        Ok(())
    }

    async fn remind_appointments(&self, report: &mut DueReport) -> CoreResult<()> {
        let days = self.settings.appointment_reminder_days;
        if days == 0 {
            return Ok(());
        }
        let tz = self.settings.timezone;
        let day =
            self.now().with_timezone(&tz).date_naive() + chrono::Duration::days(i64::from(days));
        let from = day.and_hms_opt(0, 0, 0).expect("midnight");
        let to = day.and_hms_opt(23, 59, 59).expect("a valid time");
        for step in self.ports.plans.appointments_between(from, to).await? {
            let Some(local) = step.appointment_at else {
                continue;
            };
            let Some(at) = tz.from_local_datetime(&local).earliest() else {
                continue;
            };
            let person = self.ports.plans.plan(step.plan).await?.person;
            let account = self.ports.accounts.account(person).await?;
            let told = self
                .channels
                .to_person(&account, PersonNotice::Appointment(at))
                .await?;
            let keyed: Vec<OutboxMessage> = told
                .messages
                .into_iter()
                .map(|m| m.with_dedupe_key(format!("plans.appointment:{}:{local}", step.id)))
                .collect();
            if keyed.is_empty() {
                report.no_channel += 1;
            } else if self.channels.enqueue(&keyed).await? > 0 {
                report.appointments += 1;
            } else {
                report.appointments_already_reminded += 1;
            }
        }
        Ok(())
    }
}
