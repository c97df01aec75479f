//! Namespaces discovery never looks into, and the prefix test that rules a
//! class (or a whole PSR-4 tree) out before any file is opened.

/// Namespaces never scanned (REFERENCE §5.1 step 2): frameworks and
/// libraries that ship no sTask workers but thousands of classes.
pub const DEFAULT_EXCLUDED_NAMESPACES: &[&str] = &[
    "Brick\\",
    "Carbon\\",
    "Composer\\",
    "Doctrine\\",
    "Dotenv\\",
    "Egulias\\",
    "EvolutionCMS\\Interfaces\\",
    "EvolutionCMS\\Legacy\\",
    "EvolutionCMS\\Salo\\",
    "EvolutionCMS\\Support\\",
    "EvolutionCMS\\System\\",
    "EvolutionCMS\\Tracy\\",
    "EvolutionCMS\\UserManager\\",
    "GuzzleHttp\\",
    "Illuminate\\",
    "JsonSchema\\",
    "Laravel\\",
    "League\\",
    "Monolog\\",
    "Mockery\\",
    "Pest\\",
    "PHPMailer\\",
    "PHPUnit\\",
    "PHPStan\\",
    "Predis\\",
    "Psr\\",
    "React\\",
    "SebastianBergmann\\",
    "Symfony\\",
    "Tracy\\",
    "WebPConvert\\",
    "Webmozart\\",
    "Wikimedia\\",
    "suffi\\",
];

/// Whether `class` (with or without a leading `\`) starts with any of the
/// `excluded` prefixes, ignoring ASCII case.
pub fn is_excluded(class: &str, excluded: &[&str]) -> bool {
    let class = class.trim_start_matches('\\').as_bytes();
    excluded.iter().any(|prefix| {
        let prefix = prefix.trim_start_matches('\\').as_bytes();
        !prefix.is_empty() && class.len() >= prefix.len() && class[..prefix.len()].eq_ignore_ascii_case(prefix)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusion_matches_prefixes_without_regard_to_case() {
        assert!(is_excluded("Illuminate\\Support\\Str", DEFAULT_EXCLUDED_NAMESPACES));
        assert!(is_excluded("\\Illuminate\\Support\\Str", DEFAULT_EXCLUDED_NAMESPACES));
        assert!(is_excluded("illuminate\\support\\Str", DEFAULT_EXCLUDED_NAMESPACES));
        assert!(is_excluded("suffi\\Foo", DEFAULT_EXCLUDED_NAMESPACES));
        assert!(is_excluded("EvolutionCMS\\Legacy\\Foo", DEFAULT_EXCLUDED_NAMESPACES));
        assert!(!is_excluded("EvolutionCMS\\Main\\Foo", DEFAULT_EXCLUDED_NAMESPACES));
        assert!(!is_excluded("Seiger\\sTask\\Workers\\ArtisanWorker", DEFAULT_EXCLUDED_NAMESPACES));
        assert!(!is_excluded("IlluminateExtra\\Foo", DEFAULT_EXCLUDED_NAMESPACES));
        assert!(!is_excluded("Anything", &[]));
        assert!(!is_excluded("Anything", &[""]));
    }

    #[test]
    fn default_exclusions_are_namespace_prefixes() {
        assert_eq!(DEFAULT_EXCLUDED_NAMESPACES.len(), 34);
        assert!(DEFAULT_EXCLUDED_NAMESPACES.iter().all(|p| p.ends_with('\\') && !p.starts_with('\\')));
    }
}
