//! Fetching and pushing the trail's ref with libgit2, with the credentials a CI job has.
//!
//! Credentials, in the order libgit2 asks for them:
//! - `http.extraheader` and `http.<url>.extraheader` from the repository's configuration (actions/checkout keeps
//!   the job token there as an `AUTHORIZATION` header; libgit2 itself ignores these keys), sent as custom headers
//!   on every fetch and push. `<url>` matches the remote URL by prefix; an empty value resets the list, as in git.
//! - `user:token` in the remote URL (GitLab's `https://gitlab-ci-token:$CI_JOB_TOKEN@gitlab.com/...` form).
//! - git's credential helper (`credential.helper`), through [`git2::Cred::credential_helper`].
//!
//! Compare-and-swap: a push must never overwrite a run another apply pushed first. A smart (https) server checks
//! the old value the push names and rejects a stale one; libgit2's local transport (a path or `file://` remote)
//! does not (it force-updates the ref), so for those the objects are pushed to a scratch ref and the trail's ref
//! is then moved in the remote repository with [`git2::Repository::reference_matching`], which checks the old value
//! under the ref's lock.

use git2::{AutotagOption, Cred, CredentialType, FetchOptions, Oid, PushOptions, RemoteCallbacks, Repository};

use super::TrailError;

/// Where the trail is pushed: a configured remote's name, or a URL/path.
#[derive(Debug, Clone)]
pub(crate) struct Remote {
    /// What the user named (remote name, or URL without its password), for messages.
    pub name: String,
    /// The name or URL git2 opens the remote with (may hold credentials: never printed).
    spec: String,
    pub url: String,
    /// Where pushes go: the remote's `pushurl` when it has one.
    pub push_url: String,
}

impl Remote {
    fn of(repo: &Repository, name: &str) -> Option<Remote> {
        let remote = repo.find_remote(name).ok()?;
        let url = remote.url().unwrap_or_default().to_owned();
        let push_url = remote.pushurl().map(str::to_owned).unwrap_or_else(|| url.clone());
        Some(Remote { name: name.to_owned(), spec: name.to_owned(), url, push_url })
    }

    fn anonymous(url: &str) -> Remote {
        Remote { name: without_password(url), spec: url.to_owned(), url: url.to_owned(), push_url: url.to_owned() }
    }
}

/// `url` with any password (token) in its userinfo replaced, for messages.
fn without_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// The outcome of one push attempt.
pub(crate) enum Pushed {
    Done,
    /// The remote ref moved since it was fetched (another apply pushed first).
    Stale,
}

/// Picks the remote: `explicit` (a remote name, else a URL or path), or the upstream remote of the checked-out
/// branch, else `origin`; `None` when there is none of them.
pub(crate) fn resolve(repo: &Repository, explicit: Option<&str>) -> Result<Option<Remote>, TrailError> {
    if let Some(name) = explicit {
        if let Some(remote) = Remote::of(repo, name) {
            return Ok(Some(remote));
        }
        if name.contains('/') || name.contains(':') {
            return Ok(Some(Remote::anonymous(name)));
        }
        return Err(TrailError::NoRemote { remote: name.to_owned() });
    }
    let upstream = repo
        .head()
        .ok()
        .filter(|head| head.is_branch())
        .and_then(|head| head.name().map(str::to_owned))
        .and_then(|branch| repo.branch_upstream_remote(&branch).ok())
        .and_then(|buf| buf.as_str().map(str::to_owned));
    for name in upstream.into_iter().chain(std::iter::once("origin".to_owned())) {
        if let Some(remote) = Remote::of(repo, &name) {
            return Ok(Some(remote));
        }
    }
    Ok(None)
}

fn open<'r>(repo: &'r Repository, remote: &Remote) -> Result<git2::Remote<'r>, git2::Error> {
    repo.find_remote(&remote.spec).or_else(|_| repo.remote_anonymous(&remote.spec))
}

/// `http.extraheader` values that apply to `url` (see the module docs).
pub(crate) fn extra_headers(repo: &Repository, url: &str) -> Vec<String> {
    let Ok(config) = repo.config() else { return Vec::new() };
    let mut headers = Vec::new();
    let Ok(mut entries) = config.entries(None) else { return Vec::new() };
    while let Some(Ok(entry)) = entries.next() {
        let Some(name) = entry.name() else { continue };
        let lower = name.to_ascii_lowercase();
        let Some(rest) = lower.strip_prefix("http.").and_then(|r| r.strip_suffix("extraheader")) else { continue };
        let applies = rest.is_empty() || {
            // `http.<url>.extraheader`: the subsection keeps its case in `name`.
            let prefix = &name["http.".len()..name.len() - ".extraheader".len()];
            url.starts_with(prefix)
        };
        if !applies {
            continue;
        }
        match entry.value() {
            Some("") | None => headers.clear(),
            Some(value) => headers.push(value.to_owned()),
        }
    }
    headers
}

/// `user:password` from a URL's userinfo, percent-decoded.
fn userinfo(url: &str) -> Option<(String, String)> {
    let parsed = url::Url::parse(url).ok()?;
    let password = parsed.password()?;
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((decode(parsed.username())?, decode(password)?))
}

fn callbacks<'a>(repo: &'a Repository, remote_url: &'a str) -> RemoteCallbacks<'a> {
    let mut callbacks = RemoteCallbacks::new();
    let mut tried_url = false;
    let mut tried_helper = false;
    callbacks.credentials(move |url, username, allowed| {
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
            if !tried_url {
                tried_url = true;
                if let Some((user, password)) = userinfo(remote_url) {
                    return Cred::userpass_plaintext(&user, &password);
                }
            }
            if !tried_helper {
                tried_helper = true;
                if let Ok(cred) = repo.config().and_then(|config| Cred::credential_helper(&config, url, username)) {
                    return Ok(cred);
                }
            }
        }
        Err(git2::Error::from_str(
            "no accepted credentials (an http.extraheader, user:token in the remote URL, or a credential helper)",
        ))
    });
    callbacks
}

/// Fetches `reference` from the remote into `tracking` and returns the remote's head (`None`: the remote has no
/// such ref yet). `tracking` is this module's alone: it is replaced, never the local trail ref.
pub(crate) fn fetch(
    repo: &Repository,
    remote: &Remote,
    reference: &str,
    tracking: &str,
) -> Result<Option<Oid>, git2::Error> {
    // A ref the remote no longer has must not survive from an earlier fetch.
    if let Ok(mut old) = repo.find_reference(tracking) {
        old.delete()?;
    }
    let mut handle = open(repo, remote)?;
    let headers = extra_headers(repo, &remote.url);
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut options = FetchOptions::new();
    options.remote_callbacks(callbacks(repo, &remote.url)).custom_headers(&headers).download_tags(AutotagOption::None);
    handle.fetch(&[&format!("+{reference}:{tracking}")], Some(&mut options), Some("tabops audit trail: fetch"))?;
    Ok(repo.find_reference(tracking).ok().and_then(|r| r.target()))
}

/// Pushes the local `reference` (at `new`) to the remote's `reference`, which must still be at `expected`.
pub(crate) fn push(
    repo: &Repository,
    remote: &Remote,
    reference: &str,
    new: Oid,
    expected: Option<Oid>,
) -> Result<Pushed, git2::Error> {
    let local_path = local_path(&remote.push_url);
    let target = match &local_path {
        // Objects only; the ref is moved below with a compare-and-swap.
        Some(_) => format!("refs/tabops-incoming/{}-{new}", std::process::id()),
        None => reference.to_owned(),
    };
    let mut handle = open(repo, remote)?;
    let headers = extra_headers(repo, &remote.push_url);
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let rejected = std::cell::RefCell::new(None::<String>);
    let mut callbacks = callbacks(repo, &remote.push_url);
    callbacks.push_update_reference(|_, status| {
        if let Some(why) = status {
            *rejected.borrow_mut() = Some(why.to_owned());
        }
        Ok(())
    });
    let mut options = PushOptions::new();
    options.remote_callbacks(callbacks).custom_headers(&headers);
    match handle.push(&[&format!("{reference}:{target}")], Some(&mut options)) {
        Ok(()) => {}
        // libgit2 refuses client-side when the remote's advertised head is not an ancestor of ours.
        Err(err) if err.code() == git2::ErrorCode::NotFastForward => return Ok(Pushed::Stale),
        Err(err) => return Err(err),
    }
    drop(options);
    if let Some(why) = rejected.into_inner() {
        // A smart server's answer to a stale old value ("fetch first", "failed to update ref", "non-fast-forward").
        return if local_path.is_none() { Ok(Pushed::Stale) } else { Err(git2::Error::from_str(&why)) };
    }
    let Some(path) = local_path else { return Ok(Pushed::Done) };
    let bare = Repository::open(&path)?;
    let moved = match expected {
        Some(old) => bare.reference_matching(reference, new, true, old, "tabops audit trail: push").map(|_| ()),
        None => bare.reference(reference, new, false, "tabops audit trail: push").map(|_| ()),
    };
    if let Ok(mut scratch) = bare.find_reference(&target) {
        let _ = scratch.delete();
    }
    match moved {
        Ok(()) => Ok(Pushed::Done),
        // Another process moved the ref, or holds its lock file while it does: look again.
        Err(err)
            if matches!(err.code(), git2::ErrorCode::Modified | git2::ErrorCode::Exists | git2::ErrorCode::Locked) =>
        {
            Ok(Pushed::Stale)
        }
        Err(err) => Err(err),
    }
}

/// The repository path of a local remote (a path or a `file://` URL), `None` for network remotes.
fn local_path(url: &str) -> Option<std::path::PathBuf> {
    if let Some(rest) = url.strip_prefix("file://") {
        return Some(std::path::PathBuf::from(rest));
    }
    let is_url = url.contains("://") || (url.contains(':') && !url.starts_with('/') && !url.starts_with('.'));
    (!is_url).then(|| std::path::PathBuf::from(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_headers_follow_git_url_matching_and_resets() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let mut config = repo.config().unwrap();
        config.set_str("http.https://github.com/.extraheader", "AUTHORIZATION: basic abc").unwrap();
        config.set_str("http.https://gitlab.com/.extraheader", "PRIVATE-TOKEN: other").unwrap();
        assert_eq!(extra_headers(&repo, "https://github.com/acme/analytics"), vec!["AUTHORIZATION: basic abc"]);
        assert!(extra_headers(&repo, "https://example.com/x").is_empty());
        config.set_str("http.extraheader", "X-All: 1").unwrap();
        assert_eq!(extra_headers(&repo, "https://example.com/x"), vec!["X-All: 1"]);
    }

    #[test]
    fn url_credentials_are_decoded_and_local_remotes_recognised() {
        assert_eq!(
            userinfo("https://gitlab-ci-token:a%2Fb@gitlab.com/acme/x.git"),
            Some(("gitlab-ci-token".to_owned(), "a/b".to_owned()))
        );
        assert_eq!(userinfo("https://gitlab.com/acme/x.git"), None);
        assert!(local_path("/srv/trail.git").is_some() && local_path("file:///srv/trail.git").is_some());
        assert!(local_path("https://github.com/a/b").is_none() && local_path("git@github.com:a/b").is_none());
        assert_eq!(without_password("https://u:tok@gitlab.com/a.git"), "https://u:***@gitlab.com/a.git");
    }
}
