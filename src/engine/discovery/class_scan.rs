//! The class scanner: the `class` declarations of a PHP file (name,
//! abstractness, what it extends and implements), read from its tokens
//! without loading it.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use super::php_tokens::{self, Tok};
use super::worker_ancestry::has_worker_suffix;

/// Files larger than this are not read: worker classes are small, and a
/// multi-megabyte PHP file is generated data.
const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// Whether PHP `source` declares a concrete (non-abstract) class whose
/// `extends` or `implements` clause names something ending in `Worker` or
/// `TaskInterface` (import aliases resolved). Comments, strings and
/// `Foo::class` are not mistaken for declarations; anonymous classes are
/// ignored (they cannot be registered).
pub fn may_declare_worker(source: &str) -> bool {
    declarations(source).iter().any(|d| !d.is_abstract && d.parents.iter().any(|p| has_worker_suffix(p)))
}

pub(super) fn read_php(path: &Path) -> Option<String> {
    let meta = fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
        return None;
    }
    fs::read(path).ok().map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// One `class` declaration found in a PHP file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ClassDecl {
    /// Short name, as declared.
    pub(super) name: String,
    pub(super) is_abstract: bool,
    /// Short names (last segment, aliases resolved) of the extended class
    /// and the implemented interfaces.
    pub(super) parents: Vec<String>,
}

fn last_segment(name: &str) -> &str {
    name.rsplit('\\').next().unwrap_or(name)
}

/// The class declarations of `source`, found by a token scan that skips
/// comments, strings, heredocs and inline HTML.
pub(super) fn declarations(source: &str) -> Vec<ClassDecl> {
    let tokens = php_tokens::scan(source);
    let mut aliases: HashMap<String, String> = HashMap::new();
    let mut decls = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let word = match tokens[i] {
            Tok::Word(w) => w,
            _ => {
                i += 1;
                continue;
            }
        };
        if word.eq_ignore_ascii_case("use") {
            // `use Vendor\Pkg\BaseWorker as Base;` — remember the alias so
            // `extends Base` still reads as a worker.
            if let (Some(Tok::Word(target)), Some(Tok::Word(as_kw)), Some(Tok::Word(alias))) =
                (tokens.get(i + 1), tokens.get(i + 2), tokens.get(i + 3))
            {
                if as_kw.eq_ignore_ascii_case("as") {
                    aliases.insert(alias.to_ascii_lowercase(), last_segment(target).to_string());
                }
            }
            i += 1;
            continue;
        }
        if !word.eq_ignore_ascii_case("class") {
            i += 1;
            continue;
        }
        // `Foo::class`, `$x->class`, `new class …` are not declarations.
        let prev = i.checked_sub(1).map(|p| &tokens[p]);
        let anonymous = matches!(prev, Some(Tok::Word(w)) if w.eq_ignore_ascii_case("new"));
        if matches!(prev, Some(Tok::DoubleColon | Tok::Arrow)) || anonymous {
            i += 1;
            continue;
        }
        let mut is_abstract = false;
        let mut m = i;
        while let Some(Tok::Word(modifier)) = m.checked_sub(1).map(|p| &tokens[p]) {
            if modifier.eq_ignore_ascii_case("abstract") {
                is_abstract = true;
            } else if !(modifier.eq_ignore_ascii_case("final") || modifier.eq_ignore_ascii_case("readonly")) {
                break;
            }
            m -= 1;
        }
        let Some(Tok::Word(name)) = tokens.get(i + 1) else {
            i += 1;
            continue;
        };
        let mut parents = Vec::new();
        let mut j = i + 2;
        while let Some(tok) = tokens.get(j) {
            match tok {
                Tok::Word(w) if w.eq_ignore_ascii_case("extends") || w.eq_ignore_ascii_case("implements") => {}
                Tok::Word(w) => {
                    let short = last_segment(w);
                    let resolved = aliases.get(&short.to_ascii_lowercase()).map(String::as_str).unwrap_or(short);
                    if !resolved.is_empty() {
                        parents.push(resolved.to_string());
                    }
                }
                Tok::Comma => {}
                _ => break, // `{` or anything unexpected ends the header
            }
            j += 1;
        }
        decls.push(ClassDecl { name: last_segment(name).to_string(), is_abstract, parents });
        i = j;
    }
    decls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_extending_a_worker_may_be_one() {
        assert!(may_declare_worker("<?php\nnamespace A;\nclass X extends \\Seiger\\sTask\\Workers\\BaseWorker {}"));
        assert!(may_declare_worker("<?php final class X extends BaseWorker {}"));
        assert!(may_declare_worker("<?php\n#[Attr]\nreadonly class X extends BaseWorker {}"));
    }

    #[test]
    fn a_class_implementing_task_interface_may_be_one() {
        assert!(may_declare_worker("<?php class X extends Model implements \\Countable, TaskInterface {}"));
        assert!(may_declare_worker("<?php class X implements Contracts\\TaskInterface\n{\n}"));
    }

    #[test]
    fn abstract_classes_and_interfaces_are_not_workers() {
        assert!(!may_declare_worker("<?php abstract class BaseWorker implements TaskInterface {}"));
        assert!(!may_declare_worker("<?php final abstract class X extends BaseWorker {}"));
        assert!(!may_declare_worker("<?php interface MyTask extends TaskInterface {}"));
        assert!(!may_declare_worker("<?php trait Reports { }"));
    }

    #[test]
    fn unrelated_classes_are_not_workers() {
        assert!(!may_declare_worker("<?php class Str {}"));
        assert!(!may_declare_worker("<?php class User extends Model implements Authenticatable {}"));
        assert!(!may_declare_worker("<?php class WorkerFactory extends Factory {}"));
        assert!(!may_declare_worker(""));
    }

    #[test]
    fn text_that_only_mentions_a_worker_is_not_a_declaration() {
        let src = r#"<?php
// class Fake extends BaseWorker {}
/* class Fake2 extends BaseWorker {} */
# class Fake3 extends BaseWorker
$a = 'class Fake4 extends BaseWorker';
$b = "class Fake5 extends BaseWorker";
$c = <<<EOT
class Fake6 extends BaseWorker {}
EOT;
$d = <<<'EOT'
    class Fake7 extends BaseWorker {}
    EOT;
$e = BaseWorker::class;
$f = $obj->class;
$g = new class extends BaseWorker {};
class Real extends Model {}
"#;
        assert!(!may_declare_worker(src));
        assert_eq!(declarations(src).len(), 1);
    }

    #[test]
    fn inline_html_before_the_open_tag_is_ignored() {
        assert!(!may_declare_worker("class X extends BaseWorker\n<?php echo 1;"));
        assert!(may_declare_worker("<html><?php ?>class Y extends BaseWorker<?php class Z extends BaseWorker {}"));
    }

    #[test]
    fn an_import_alias_is_resolved() {
        let src = "<?php\nuse Seiger\\sTask\\Workers\\BaseWorker as Base;\nclass X extends Base {}\n";
        assert!(may_declare_worker(src));
        let src = "<?php\nuse Foo\\Bar as Base;\nclass X extends Base {}\n";
        assert!(!may_declare_worker(src));
    }

    #[test]
    fn names_are_compared_without_regard_to_case() {
        assert!(may_declare_worker("<?php CLASS X EXTENDS baseworker {}"));
        assert!(!may_declare_worker("<?php ABSTRACT CLASS X EXTENDS BaseWorker {}"));
    }

    #[test]
    fn declarations_record_names_and_parents() {
        let src = "<?php\nnamespace N;\nabstract class A extends \\X\\BaseWorker {}\nclass B extends A implements I, \\J\\K {}\n";
        assert_eq!(
            declarations(src),
            vec![
                ClassDecl { name: "A".into(), is_abstract: true, parents: vec!["BaseWorker".into()] },
                ClassDecl { name: "B".into(), is_abstract: false, parents: vec!["A".into(), "I".into(), "K".into()] },
            ]
        );
    }
}
