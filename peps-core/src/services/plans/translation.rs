//! Machine translation of what a worker writes, into the person's language.

use super::*;

impl Plans {
    /// Machine-translates the fields without a current translation into the person's
    /// language. Easy-to-read French is never machine-made; a translator that is down or
    /// lacks the language leaves the French, shown as such.
    pub(super) async fn translate_step(&self, content: &mut StepContent, language: &Language) {
        let target = language.code();
        if target == Language::REFERENCE || target == "fr-x-falc" || content.is_current_in(target) {
            return;
        }
        let french = content.french();
        let mut texts = vec![french.title, french.explanation];
        texts.extend(french.tasks);
        match self
            .translator
            .translate(&texts, &Language::french(), language)
            .await
        {
            Ok(Some(mut out)) if out.len() == texts.len() => {
                let tasks = out.split_off(2);
                let explanation = out.pop().unwrap_or_default();
                let title = out.pop().unwrap_or_default();
                content.fill_stale(
                    target,
                    StepTexts {
                        title,
                        explanation,
                        tasks,
                    },
                    Provenance::Machine,
                );
            }
            Ok(Some(_)) => {
                tracing::warn!(target, "translator answered a different number of texts")
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, target, "step not machine-translated"),
        }
    }

    pub(super) async fn translate_title(&self, title: &mut TranslatableText, language: &Language) {
        let target = language.code();
        if target == "fr-x-falc" || title.is_current_in(target) {
            return;
        }
        match self
            .translator
            .translate(
                std::slice::from_ref(&title.french),
                &Language::french(),
                language,
            )
            .await
        {
            Ok(Some(mut out)) if out.len() == 1 => {
                let value = out.pop().unwrap_or_default();
                title.translate(target, value, Provenance::Machine);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, target, "plan title not machine-translated"),
        }
    }
}
