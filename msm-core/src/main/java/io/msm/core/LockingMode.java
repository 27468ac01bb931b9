package io.msm.core;

import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Which non-sticky requests take the session's lock: {@code none}, {@code all}, {@code auto}
 * (all but the URIs learned to be read-only) or {@code uriPattern:<regex>} (the URIs, with their
 * query string, that match).
 */
public final class LockingMode {
    enum Kind {
        NONE, ALL, AUTO, URI_PATTERN
    }

    static final String FORM = "none, all, auto or uriPattern:<regular expression>";

    final Kind kind;
    final Pattern pattern;

    private LockingMode(Kind kind, Pattern pattern) {
        this.kind = kind;
        this.pattern = pattern;
    }

    static LockingMode parse(String text, List<String> errors) {
        if (text != null && !text.startsWith("uriPattern:")) {
            text = text.toLowerCase(java.util.Locale.ROOT); // 2.3.2 read NONE, None and none alike
        }
        if (text == null || text.equals("auto")) {
            return new LockingMode(Kind.AUTO, null);
        }
        if (text.equals("none")) {
            return new LockingMode(Kind.NONE, null);
        }
        if (text.equals("all")) {
            return new LockingMode(Kind.ALL, null);
        }
        if (text.startsWith("uriPattern:")) {
            // A URI holds no blank (it is %20 there): one around the pattern is the way it was written, and
            // kept it would match no request, so that no request would lock.
            String regex = text.substring("uriPattern:".length()).trim();
            if (regex.isEmpty()) {
                // It would match no request: none, without saying so (an empty template variable).
                errors.add("lockingMode: uriPattern: has no pattern after it; write a regular expression of the"
                        + " request URIs that must lock, e.g. uriPattern:/xnat/app/.*, or none or all");
                return new LockingMode(Kind.AUTO, null);
            }
            try {
                return new LockingMode(Kind.URI_PATTERN, Pattern.compile(regex));
            } catch (PatternSyntaxException e) {
                errors.add("lockingMode: '" + regex + "' after uriPattern: is not a regular expression ("
                        + e.getDescription() + ")");
                return new LockingMode(Kind.AUTO, null);
            }
        }
        errors.add("lockingMode: '" + text + "' is not a locking mode; write " + FORM);
        return new LockingMode(Kind.AUTO, null);
    }

    @Override
    public String toString() {
        return kind == Kind.URI_PATTERN ? "uriPattern:" + pattern.pattern() : kind.name().toLowerCase();
    }
}
