//! What discovery walks: the classes an application can autoload, as plain
//! data. The PHP face fills it from the Composer `ClassLoader` the host has
//! registered; [`super::read_composer_files`] fills it from Composer's
//! generated files where no loader is registered.

use std::path::PathBuf;

/// PSR-4 prefixes with their directories, and the class map, in the order
/// the autoloader holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AutoloadMap {
    /// `Vendor\Package\` → directories; the empty prefix is PSR-4's
    /// fallback (directories whose paths map to classes without a prefix).
    pub psr4: Vec<(String, Vec<PathBuf>)>,
    /// Fully qualified class → the file that declares it.
    pub classmap: Vec<(String, PathBuf)>,
}
