//! Text normalisation for search: case and accent folding, French stop words and stemming, and
//! a bounded edit distance for typo tolerance. Documents and queries go through the same steps,
//! so "Hébergements" in an offer and "hebergement" in a query meet at the same stem.

use rust_stemmers::{Algorithm, Stemmer};
use std::sync::LazyLock;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

static FRENCH: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::French));

/// Words too common to say anything about an offer. Folded (no accents).
const STOP_WORDS: &[&str] = &[
    "a", "au", "aux", "avec", "ce", "ces", "cet", "cette", "d", "dans", "de", "des", "du", "elle",
    "en", "et", "eux", "il", "je", "l", "la", "le", "les", "leur", "leurs", "lui", "ma", "mais",
    "me", "mes", "moi", "mon", "ne", "nos", "notre", "nous", "on", "ou", "par", "pas", "pour",
    "qu", "que", "qui", "s", "sa", "se", "ses", "son", "sur", "ta", "te", "tes", "toi", "ton",
    "tu", "un", "une", "vos", "votre", "vous", "y", "est", "sont", "etre",
];

/// Lower case, accents removed, ligatures expanded: "Œuvre Hébergée" → "oeuvre hebergee".
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Marks are accents only on the alphabets (Latin, Greek, Cyrillic) and Arabic's vowel
    // signs; in Bengali or Tamil they are vowels, and "বাসা" (home) is not "বাস" (bus).
    let mut accents_are_marks = true;
    // Lower-casing first: some capitals lower-case to a letter plus a combining mark (İ).
    for c in text.to_lowercase().nfd() {
        if is_combining_mark(c) {
            if !accents_are_marks {
                out.push(c);
            }
            continue;
        }
        accents_are_marks = c < '\u{0900}' || ('\u{1e00}'..='\u{1fff}').contains(&c);
        match c {
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            'ß' => out.push_str("ss"),
            // Turkish dotless i, typed as i on most phones.
            'ı' => out.push('i'),
            // The Persian zero-width non-joiner sits inside a word ("می‌خواهم").
            '\u{200c}' => {}
            // Arabic script as people type it on any keyboard: Persian, Urdu and Pashto
            // letter forms, hamza carriers and tā' marbūṭa meet the plain letter, the
            // elongation stroke goes.
            'ـ' => {}
            'أ' | 'إ' | 'آ' | 'ٱ' => out.push('ا'),
            'ى' | 'ی' | 'ې' | 'ۍ' | 'ئ' | 'ے' => out.push('ي'),
            'ک' | 'ڪ' => out.push('ك'),
            'ة' | 'ۀ' | 'ہ' | 'ە' => out.push('ه'),
            'ؤ' => out.push('و'),
            _ => out.push(c),
        }
    }
    out
}

/// The folded words of `text`, without stop words, in order. Digits are words too (a
/// postcode, "RSA 2026"); an apostrophe splits ("l'emploi" → "emploi").
pub fn words(text: &str) -> Vec<String> {
    without_inner_apostrophes(&fold(text))
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(w))
        .map(|w| without_arabic_article(w).to_owned())
        .collect()
}

/// An apostrophe between two Cyrillic letters is part of the word (Ukrainian "м'ясо", meat);
/// elsewhere it splits ("l'emploi").
fn without_inner_apostrophes(text: &str) -> std::borrow::Cow<'_, str> {
    let cyrillic = |c: Option<char>| c.is_some_and(|c| ('\u{0400}'..='\u{04ff}').contains(&c));
    if !text.contains(['\'', '’', 'ʼ']) {
        return std::borrow::Cow::Borrowed(text);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, c) in chars.iter().enumerate() {
        let inner = matches!(c, '\'' | '’' | 'ʼ')
            && i > 0
            && cyrillic(Some(chars[i - 1]))
            && cyrillic(chars.get(i + 1).copied());
        if !inner {
            out.push(*c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// "السكن" (the housing) and "سكن" (housing) are one word to a reader: the article, alone or
/// after "and", "with", "for", is not part of it. Kept when too little would remain.
fn without_arabic_article(word: &str) -> &str {
    for prefix in ["وال", "بال", "فال", "كال", "لل", "ال"] {
        if let Some(rest) = word.strip_prefix(prefix)
            && rest.chars().count() >= 3
        {
            return rest;
        }
    }
    word
}

/// The French stem of a folded word.
pub fn stem(word: &str) -> String {
    FRENCH.stem(word).into_owned()
}

/// The stems of `text`: what the index stores and what a query looks up.
pub fn stems(text: &str) -> Vec<String> {
    words(text).iter().map(|w| stem(w)).collect()
}

/// How many typos a query word of this length may contain and still match: none up to four
/// characters, one from 5, two from 8. A typo in a short word is most often another word
/// ("toit" is one letter from "tout", "soin" from "sain"), so short words match as typed.
pub fn typo_budget(word: &str) -> usize {
    match word.chars().count() {
        0..=4 => 0,
        5..=7 => 1,
        _ => 2,
    }
}

/// Levenshtein distance between `a` and `b` if it is at most `max`, else `None`; stops early.
pub fn bounded_distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        let mut row_min = current[0];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            current[j + 1] = (previous[j] + cost)
                .min(previous[j + 1] + 1)
                .min(current[j] + 1);
            row_min = row_min.min(current[j + 1]);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut previous, &mut current);
    }
    let distance = previous[b.len()];
    (distance <= max).then_some(distance)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn folding_removes_case_accents_and_ligatures() {
        assert_eq!(fold("Hébergement d’URGENCE"), "hebergement d’urgence");
        assert_eq!(fold("Œuvre, cœur, Ça"), "oeuvre, coeur, ca");
    }

    #[test]
    fn plural_and_accents_meet_at_one_stem() {
        assert_eq!(stems("hebergements"), stems("Hébergement"));
        assert_eq!(stems("Logements sociaux"), stems("logement social"));
        assert_eq!(
            stems("l'emploi des jeunes"),
            vec![stem("emploi"), stem("jeunes")]
        );
    }

    #[test]
    fn arabic_script_meets_at_one_form() {
        // Vowel marks, hamza carriers, Persian letter forms, the article.
        assert_eq!(words("السَّكَن"), words("سكن"));
        assert_eq!(words("مأوى"), words("ماوي"));
        assert_eq!(words("کار"), words("كار"));
        assert_eq!(words("والسكن"), vec!["سكن".to_owned()]);
        // Too short to hold an article: "الم" (pain) stays whole.
        assert_eq!(words("الم"), vec!["الم".to_owned()]);
    }

    #[test]
    fn other_scripts_keep_their_vowels_and_words() {
        assert_ne!(words("বাসা"), words("বাস"));
        assert_ne!(words("வேலை"), words("வலி"));
        assert_eq!(words("gıda yardımı"), words("gida yardimi"));
        assert_eq!(words("می\u{200c}خواهم"), words("میخواهم"));
        assert_eq!(words("м'ясо"), vec!["мясо".to_owned()]);
        assert_eq!(words("м’ясо"), words("м'ясо"));
        assert_eq!(words("l'emploi"), vec!["emploi".to_owned()]);
    }

    #[test]
    fn distance_is_bounded() {
        assert_eq!(bounded_distance("logement", "logemnet", 2), Some(2));
        assert_eq!(bounded_distance("aide", "aides", 1), Some(1));
        assert_eq!(bounded_distance("aide", "santé", 1), None);
        assert_eq!(typo_budget("rsa"), 0);
        assert_eq!(typo_budget("toit"), 0);
        assert_eq!(typo_budget("repas"), 1);
        assert_eq!(typo_budget("emploi"), 1);
        assert_eq!(typo_budget("hebergement"), 2);
    }

    proptest! {
        #[test]
        fn distance_is_symmetric_and_zero_on_equal(a in "[a-z]{0,10}", b in "[a-z]{0,10}") {
            prop_assert_eq!(bounded_distance(&a, &b, 3), bounded_distance(&b, &a, 3));
            prop_assert_eq!(bounded_distance(&a, &a, 0), Some(0));
        }

        #[test]
        fn folding_is_idempotent(s in "\\PC{0,40}") {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once.clone());
        }
    }
}
