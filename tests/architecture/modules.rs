//! A crate's module tree and the references between its modules, read from the
//! sources with `syn`.
//!
//! The tree comes from the file layout and the `mod` declarations, starting at a
//! crate root (`lib.rs`, `main.rs`): `mod a;` in `lib.rs` or a `mod.rs` is `a.rs`
//! or `a/mod.rs` beside it, in `x.rs` it is `x/a.rs` or `x/a/mod.rs`, `#[path]`
//! is honoured, and inline `mod a { … }` blocks are modules of their own. Modules
//! and items compiled only for tests (`#[cfg(test)]`, `#[cfg(all(test, …))]`) and
//! `tests.rs` files are left out: tests may reach anywhere.
//!
//! A reference is one path in a module's code that names another module of the
//! same crate: `use crate::a::b::X` (every leaf of a `use` tree, `pub use`
//! re-exports included, as references of the re-exporting module), `use super::…`
//! and `use self::…` resolved against the module they are written in, a child
//! module named directly (`use a::X` in the parent of `a`), and `crate::a::f()`,
//! `super::a::f()` or `self::a::f()` written in code, including inside macro
//! invocations and attribute arguments. Each reference points at the deepest module its path names and
//! carries the file and line it was written on.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Attribute, Item, ItemMod, Meta, Token, UseTree};

/// A module's place in its crate: `[]` is the root, `["config", "notify"]` is
/// `crate::config::notify`.
pub(crate) type ModPath = Vec<String>;

/// Shows a module path as Rust writes it.
pub(crate) fn show(path: &[String]) -> String {
    if path.is_empty() {
        "crate".to_owned()
    } else {
        path.join("::")
    }
}

/// One path in `from`'s code that names module `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    pub(crate) from: ModPath,
    pub(crate) to: ModPath,
    pub(crate) file: PathBuf,
    pub(crate) line: usize,
    /// The source line, trimmed.
    pub(crate) text: String,
}

/// A crate's modules and the references between them.
#[derive(Debug, Default)]
pub(crate) struct Crate {
    pub(crate) modules: BTreeSet<ModPath>,
    pub(crate) references: Vec<Reference>,
}

/// Why a crate's sources could not be read.
#[derive(Debug)]
pub(crate) enum Error {
    /// A `mod` declaration with no file behind it (the paths tried).
    MissingFile {
        module: String,
        declared_in: PathBuf,
        tried: Vec<PathBuf>,
    },
    /// A file that is not Rust syntax.
    Parse {
        file: PathBuf,
        line: usize,
        reason: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::MissingFile {
                module,
                declared_in,
                tried,
            } => write!(
                f,
                "module {module} declared in {} has no file (tried {tried:?})",
                declared_in.display()
            ),
            Error::Parse { file, line, reason } => {
                write!(f, "{}:{line}: cannot parse: {reason}", file.display())
            }
        }
    }
}

/// One module's own code: the items written directly in it.
struct ModuleCode {
    path: ModPath,
    file: PathBuf,
    text: std::rc::Rc<String>,
    items: Vec<Item>,
}

/// Reads the crate whose root file is `root`; `read` returns a file's text, or
/// `None` if there is no such file.
pub(crate) fn load(root: &Path, read: &dyn Fn(&Path) -> Option<String>) -> Result<Crate, Error> {
    let text = read(root).ok_or_else(|| Error::MissingFile {
        module: "crate".into(),
        declared_in: root.to_owned(),
        tried: vec![root.to_owned()],
    })?;
    let dir = root.parent().unwrap_or(Path::new("")).to_owned();
    let mut code = Vec::new();
    collect_file(root, text, Vec::new(), dir, read, &mut code)?;
    let modules: BTreeSet<ModPath> = code.iter().map(|m| m.path.clone()).collect();
    let mut references = Vec::new();
    for m in &code {
        let mut finder = Finder {
            module: &m.path,
            modules: &modules,
            file: &m.file,
            text: &m.text,
            found: &mut references,
        };
        for item in m.items.iter().filter(|i| !is_test_only(item_attrs(i))) {
            finder.visit_item(item);
        }
    }
    Ok(Crate {
        modules,
        references,
    })
}

/// Parses one file as the module `path`, whose child modules' files live in `dir`.
fn collect_file(
    file: &Path,
    text: String,
    path: ModPath,
    dir: PathBuf,
    read: &dyn Fn(&Path) -> Option<String>,
    out: &mut Vec<ModuleCode>,
) -> Result<(), Error> {
    let parsed = syn::parse_file(&text).map_err(|e| Error::Parse {
        file: file.to_owned(),
        line: e.span().start().line,
        reason: e.to_string(),
    })?;
    let text = std::rc::Rc::new(text);
    collect_items(file, &text, path, dir, parsed.items, read, out)
}

/// Records the module `path` made of `items` and walks its child modules.
fn collect_items(
    file: &Path,
    text: &std::rc::Rc<String>,
    path: ModPath,
    dir: PathBuf,
    items: Vec<Item>,
    read: &dyn Fn(&Path) -> Option<String>,
    out: &mut Vec<ModuleCode>,
) -> Result<(), Error> {
    let mut own = Vec::new();
    for item in items {
        let Item::Mod(m) = item else {
            own.push(item);
            continue;
        };
        if is_test_only(&m.attrs) || m.ident == "tests" {
            continue;
        }
        let mut child = path.clone();
        child.push(m.ident.to_string());
        match m.content {
            Some((_, inner)) => {
                let inner_dir = dir.join(m.ident.to_string());
                collect_items(file, text, child, inner_dir, inner, read, out)?;
            }
            None => {
                let (child_file, child_text, child_dir) = module_file(file, &dir, &m, read)?;
                if child_file.file_name().is_some_and(|n| n == "tests.rs") {
                    continue;
                }
                collect_file(&child_file, child_text, child, child_dir, read, out)?;
            }
        }
    }
    out.push(ModuleCode {
        path,
        file: file.to_owned(),
        text: text.clone(),
        items: own,
    });
    Ok(())
}

/// The file of `mod name;` declared in `file` (children in `dir`): its path, text
/// and the folder of its own children.
fn module_file(
    file: &Path,
    dir: &Path,
    m: &ItemMod,
    read: &dyn Fn(&Path) -> Option<String>,
) -> Result<(PathBuf, String, PathBuf), Error> {
    let name = m.ident.to_string();
    if let Some(explicit) = path_attr(&m.attrs) {
        // A #[path] file is relative to the declaring file's folder, and its own
        // children sit beside it, as a mod.rs file's do.
        let base = file.parent().unwrap_or(Path::new(""));
        let target = base.join(explicit);
        let text = read(&target).ok_or_else(|| Error::MissingFile {
            module: name.clone(),
            declared_in: file.to_owned(),
            tried: vec![target.clone()],
        })?;
        let child_dir = target.parent().unwrap_or(Path::new("")).to_owned();
        return Ok((target, text, child_dir));
    }
    let flat = dir.join(format!("{name}.rs"));
    let nested = dir.join(&name).join("mod.rs");
    if let Some(text) = read(&flat) {
        return Ok((flat, text, dir.join(&name)));
    }
    if let Some(text) = read(&nested) {
        return Ok((nested, text, dir.join(&name)));
    }
    Err(Error::MissingFile {
        module: name,
        declared_in: file.to_owned(),
        tried: vec![flat, nested],
    })
}

/// The value of a `#[path = "…"]` attribute.
fn path_attr(attrs: &[Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| match &a.meta {
        Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

fn item_attrs(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::ExternCrate(i) => &i.attrs,
        Item::Fn(i) => &i.attrs,
        Item::ForeignMod(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::TraitAlias(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Union(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

/// True if a `#[cfg]` on the item compiles it only for tests.
pub(crate) fn is_test_only(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg") && a.parse_args::<Meta>().is_ok_and(|meta| implies_test(&meta))
    })
}

/// True if the cfg predicate can hold only when `test` does.
fn implies_test(meta: &Meta) -> bool {
    match meta {
        Meta::Path(p) => p.is_ident("test"),
        Meta::List(list) => {
            let Ok(args) = list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
            else {
                return false;
            };
            if list.path.is_ident("all") {
                args.iter().any(implies_test)
            } else if list.path.is_ident("any") {
                !args.is_empty() && args.iter().all(implies_test)
            } else {
                false
            }
        }
        Meta::NameValue(_) => false,
    }
}

/// Collects the references in one module's items.
struct Finder<'a> {
    module: &'a ModPath,
    modules: &'a BTreeSet<ModPath>,
    file: &'a Path,
    text: &'a str,
    found: &'a mut Vec<Reference>,
}

impl Finder<'_> {
    /// Records `segments` (as written, from `line`) if they name a module of the crate.
    fn note(&mut self, segments: &[String], line: usize) {
        let Some(to) = resolve(self.module, segments, self.modules) else {
            return;
        };
        let seen = self
            .found
            .iter()
            .any(|r| r.line == line && r.to == to && r.from == *self.module && r.file == self.file);
        if seen {
            return; // two leaves of one `use` line
        }
        let text = self
            .text
            .lines()
            .nth(line.saturating_sub(1))
            .unwrap_or_default()
            .trim()
            .to_owned();
        self.found.push(Reference {
            from: self.module.clone(),
            to,
            file: self.file.to_owned(),
            line,
            text,
        });
    }

    /// Every leaf of a `use` tree, with the prefix that leads to it.
    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &UseTree) {
        match tree {
            UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                self.note(&prefix.clone(), n.ident.span().start().line);
                prefix.pop();
            }
            UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                self.note(&prefix.clone(), r.ident.span().start().line);
                prefix.pop();
            }
            UseTree::Glob(g) => {
                self.note(&prefix.clone(), g.star_token.spans[0].start().line);
            }
            UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }

    /// `crate::a::b`, `super::a` and `self::a` paths inside a macro's tokens.
    fn tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Group(g) => self.tokens(g.stream()),
                TokenTree::Ident(id)
                    if (id == "crate" || id == "super" || id == "self")
                        && !matches!(i.checked_sub(1).map(|p| &trees[p]),
                            Some(TokenTree::Punct(p)) if p.as_char() == '$' || p.as_char() == ':') =>
                {
                    let line = id.span().start().line;
                    let mut segments = vec![id.to_string()];
                    let mut j = i + 1;
                    while let (
                        Some(TokenTree::Punct(a)),
                        Some(TokenTree::Punct(b)),
                        Some(TokenTree::Ident(next)),
                    ) = (trees.get(j), trees.get(j + 1), trees.get(j + 2))
                    {
                        if a.as_char() != ':' || b.as_char() != ':' {
                            break;
                        }
                        segments.push(next.to_string());
                        j += 3;
                    }
                    if segments.len() > 1 {
                        self.note(&segments, line);
                    }
                    i = j;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_item_mod(&mut self, _: &'ast ItemMod) {
        // A nested module is a module of its own, read separately.
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        if !is_test_only(&u.attrs) {
            self.use_tree(&mut Vec::new(), &u.tree);
        }
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if !is_test_only(&f.attrs) {
            visit::visit_item_fn(self, f);
        }
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !is_test_only(&f.attrs) {
            visit::visit_impl_item_fn(self, f);
        }
    }

    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {
        // `pub(in crate::a)` says who may see an item; it imports nothing.
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        if p.leading_colon.is_none() {
            let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
            if segments.len() > 1 {
                let line = p
                    .segments
                    .first()
                    .map_or(0, |s| s.ident.span().start().line);
                self.note(&segments, line);
            }
        }
        visit::visit_path(self, p);
    }

    fn visit_meta_list(&mut self, list: &'ast syn::MetaList) {
        // Attribute arguments are tokens to syn: `#[arg(default_value = crate::a::X)]`.
        self.tokens(list.tokens.clone());
        visit::visit_meta_list(self, list);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.tokens(m.tokens.clone());
        visit::visit_macro(self, m);
    }
}

/// The deepest module of `modules` that `segments`, written in module `at`, name;
/// `None` for a path that leaves the crate or names no module.
pub(crate) fn resolve(
    at: &[String],
    segments: &[String],
    modules: &BTreeSet<ModPath>,
) -> Option<ModPath> {
    let first = segments.first()?;
    let (mut target, rest): (ModPath, &[String]) = match first.as_str() {
        "crate" => (Vec::new(), &segments[1..]),
        "self" => (at.to_vec(), &segments[1..]),
        "super" => {
            let mut base = at.to_vec();
            let mut rest = segments;
            while rest.first().is_some_and(|s| s == "super") {
                base.pop()?;
                rest = &rest[1..];
            }
            (base, rest)
        }
        child => {
            let mut local = at.to_vec();
            local.push(child.to_owned());
            if !modules.contains(&local) {
                return None; // another crate, or an item in scope
            }
            (at.to_vec(), segments)
        }
    };
    for s in rest {
        if s == "self" {
            continue;
        }
        target.push(s.clone());
        if !modules.contains(&target) {
            target.pop();
            break;
        }
    }
    Some(target)
}
