package io.msm.serializers;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;

import io.msm.core.Logs;

/**
 * Decides, by name and before a class is loaded, which classes session bytes may name, and bounds
 * depth, array length, total size, the number of objects and references, the hashing that
 * rebuilding hash-based collections takes, and time (see {@link DecodeGuard}). Both transcoders ask
 * it; see the README's "Serializers" section for the {@code serialFilter} syntax.
 *
 * <p>Entries are tried left to right and the first match decides. The operator's entries come
 * after the built-in gadget rejections ({@code @gadgets}) and before the JDK lists ({@code @jdk});
 * whatever nothing matched is allowed (the webapp's own classes and libraries). A filter that names
 * {@code @gadgets} or {@code @jdk} puts them where it names them, and one that ends in {@code *} or
 * {@code !*} never reaches what would follow.
 */
public final class SerialFilter {
    private static final Logger LOG = Logs.get(SerialFilter.class);
    public static final String ATTRIBUTE = "serialFilter";

    public static final int DEFAULT_MAX_DEPTH = 500;
    public static final int DEFAULT_MAX_ARRAY = 1_000_000;
    public static final int DEFAULT_MAX_BYTES = 10_000_000;
    /** Objects and references of one session: a 10 MB session of small objects holds about a million. */
    public static final int DEFAULT_MAX_REFS = 1_000_000;
    /**
     * Steps of hashCode() that rebuilding the hash-based collections of one session may take (see
     * {@link DecodeGuard}): a second or less, where real sessions, whose keys are strings, numbers and
     * small beans, need one step per key.
     */
    public static final int DEFAULT_MAX_HASH_WORK = 32_000_000;
    /** Time one session may take to decode; a stored session of the largest size takes well under a second. */
    public static final int DEFAULT_MAX_MILLIS = 5_000;

    private static final List<String> LIMITS = Collections.unmodifiableList(Arrays.asList("maxdepth", "maxarray",
            "maxbytes", "maxrefs", "maxhashwork", "maxmillis"));
    private static final int[] DEFAULTS = {DEFAULT_MAX_DEPTH, DEFAULT_MAX_ARRAY, DEFAULT_MAX_BYTES, DEFAULT_MAX_REFS,
        DEFAULT_MAX_HASH_WORK, DEFAULT_MAX_MILLIS};
    private static final String LIMIT_FORMS = "maxdepth=N, maxarray=N, maxbytes=N, maxrefs=N, maxhashwork=N or"
            + " maxmillis=N";

    private static final String HOW = "; write a class (com.example.Cart), a package (com.example.*), a package and"
            + " its subpackages (com.example.**), a name prefix (com.example.Cart*) or *, each optionally with ! in"
            + " front to reject; @gadgets or @jdk for the built-in lists; or " + LIMIT_FORMS
            + "; separate entries with ;";

    private final List<Rule> rules;
    private final int maxDepth;
    private final int maxArray;
    private final int maxBytes;
    private final int maxRefs;
    private final int maxHashWork;
    private final int maxMillis;
    private final boolean reportOnly;
    /** False only for {@link #unchecked()}. */
    private final boolean checking;
    private final Map<String, Boolean> decisions = new ConcurrentHashMap<>();
    /** The same decisions keyed by class, for the write side, where classes are at hand: cheaper to look up. */
    private final ClassValue<Boolean> classDecisions = new ClassValue<Boolean>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            return decide(componentName(type.getName()));
        }
    };
    private final ReportedOnce reported = new ReportedOnce(LOG);
    /** Classes the operator's own entries allow by their exact name. */
    private final java.util.Set<String> namedExactly;

    private SerialFilter(List<Rule> rules, List<Rule> own, int[] limits, boolean reportOnly, boolean checking) {
        this.rules = rules;
        java.util.Set<String> exact = new java.util.HashSet<>();
        for (Rule r : own) {
            if (r.allow && r.kind == 0) {
                exact.add(r.text);
            }
        }
        this.namedExactly = Collections.unmodifiableSet(exact);
        this.maxDepth = limits[0];
        this.maxArray = limits[1];
        this.maxBytes = limits[2];
        this.maxRefs = limits[3];
        this.maxHashWork = limits[4];
        this.maxMillis = limits[5];
        this.reportOnly = reportOnly;
        this.checking = checking;
    }

    /**
     * No class check and no limits: the baseline that msm-benchmarks measures the checks against.
     * No factory ever uses it.
     */
    static SerialFilter unchecked() {
        int[] none = new int[DEFAULTS.length];
        Arrays.fill(none, Integer.MAX_VALUE);
        return new SerialFilter(Collections.<Rule>emptyList(), Collections.<Rule>emptyList(), none, false, false);
    }

    /**
     * @return true when the operator's own entries allow this class by its exact name
     *     ({@code java.beans.Beans}, not a package or a prefix): a decision about
     *     that one class, which lifts refusals that hold for JDK classes in general
     */
    public boolean namesExactly(String className) {
        return namedExactly.contains(className);
    }

    /** @return false for the benchmarks' {@link #unchecked()} baseline only */
    public boolean isChecking() {
        return checking;
    }

    /** The built-in lists and limits only. */
    public static SerialFilter builtIn() {
        return parse(null, false);
    }

    /**
     * @param spec the {@code serialFilter} attribute, or null for the built-in lists
     * @param reportOnly log each class the filter refuses, once, and accept it
     * @throws IllegalArgumentException naming {@code serialFilter}, the bad entry and what to write
     */
    public static SerialFilter parse(String spec, boolean reportOnly) {
        List<Rule> own = new ArrayList<>();
        int[] limits = DEFAULTS.clone();
        boolean namesGadgets = false;
        boolean namesJdk = false;
        if (spec != null) {
            for (String raw : spec.split(";")) {
                String entry = raw.trim();
                if (entry.isEmpty()) {
                    continue;
                }
                int eq = entry.indexOf('=');
                if (eq >= 0) {
                    limit(entry, entry.substring(0, eq).trim(), entry.substring(eq + 1).trim(), limits);
                } else if (entry.equals("@gadgets")) {
                    namesGadgets = true;
                    own.addAll(BuiltInLists.GADGETS);
                } else if (entry.equals("@jdk")) {
                    namesJdk = true;
                    own.addAll(BuiltInLists.JDK);
                } else {
                    own.add(Rule.parse(entry, HOW));
                }
            }
        }
        List<Rule> rules = new ArrayList<>();
        if (!namesGadgets) {
            rules.addAll(BuiltInLists.GADGETS);
        }
        rules.addAll(own);
        if (!namesJdk) {
            rules.addAll(BuiltInLists.JDK);
        }
        return new SerialFilter(Collections.unmodifiableList(rules), own, limits, reportOnly, true);
    }

    private static void limit(String entry, String name, String value, int[] limits) {
        int index = LIMITS.indexOf(name);
        if (index < 0) {
            throw new IllegalArgumentException(ATTRIBUTE + ": '" + entry + "' names no limit; write " + LIMIT_FORMS);
        }
        try {
            int parsed = Integer.parseInt(value);
            if (parsed > 0) {
                limits[index] = parsed;
                return;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(ATTRIBUTE + ": '" + entry + "' needs a whole number from 1 to "
                + Integer.MAX_VALUE + "; write " + name + "=" + DEFAULTS[index] + " for the default");
    }

    /**
     * @param className a class or array class name ({@code [Lcom.example.Cart;}) as stored
     * @throws RejectedContentException when the filter refuses it and is not in report-only mode
     */
    public void check(String className) {
        if (!checking) {
            return;
        }
        Boolean allowed = decisions.get(className);
        if (allowed == null) {
            allowed = decide(componentName(className));
            if (decisions.size() < 10_000) {
                decisions.put(className, allowed);
            }
        }
        enforce(allowed, className);
    }

    /** {@link #check(String)} for a class at hand, as when writing. */
    public void check(Class<?> type) {
        if (checking) {
            enforce(classDecisions.get(type), type.getName());
        }
    }

    private void enforce(boolean allowed, String className) {
        if (!allowed) {
            if (!reportOnly) {
                throw new RejectedContentException("class " + className + " is not allowed by " + ATTRIBUTE);
            }
            if (reported.first(className)) {
                LOG.warn("{}Mode=report: class {} would be rejected by {}; accepted. Add it to {} to allow it for"
                        + " good (reported once per class)", ATTRIBUTE, ReportedOnce.printable(className), ATTRIBUTE,
                        ATTRIBUTE);
            }
        }
    }

    private boolean decide(String name) {
        if (name == null) {
            return true; // an array of primitives
        }
        for (Rule rule : rules) {
            if (rule.matches(name)) {
                return rule.allow;
            }
        }
        return true; // the webapp's own classes and its libraries
    }

    /** @return the element class name of an array class name, null for primitive elements */
    private static String componentName(String name) {
        if (!name.startsWith("[")) {
            return name;
        }
        int i = 0;
        while (i < name.length() && name.charAt(i) == '[') {
            i++;
        }
        if (i < name.length() && name.charAt(i) == 'L' && name.endsWith(";")) {
            return name.substring(i + 1, name.length() - 1);
        }
        return null;
    }

    public int maxDepth() {
        return maxDepth;
    }

    public int maxArray() {
        return maxArray;
    }

    public int maxBytes() {
        return maxBytes;
    }

    /** @return how many objects and references (nulls and class descriptions included) one session may hold */
    public int maxRefs() {
        return maxRefs;
    }

    /** @return how many steps of hashCode() rebuilding one session's hash-based collections may take */
    public int maxHashWork() {
        return maxHashWork;
    }

    /** @return how many milliseconds decoding one session may take */
    public int maxMillis() {
        return maxMillis;
    }

    /** @throws RejectedContentException when an array or collection claims more elements than allowed or present */
    public void checkLength(long length, long bytesLeft) {
        if (!checking) {
            return;
        }
        if (length < 0 || length > maxArray) {
            throw RejectedContentException.limit("an array or collection of " + length + " elements exceeds "
                    + ATTRIBUTE + " maxarray=" + maxArray);
        }
        if (length > bytesLeft) {
            throw RejectedContentException.limit("an array or collection claims " + length + " elements but only "
                    + bytesLeft + " bytes follow");
        }
    }

    /** One entry: a class name pattern that allows or rejects. */
    static final class Rule {
        final boolean allow;
        private final String text;
        private final int kind; // 0 exact, 1 package, 2 package tree, 3 prefix, 4 any

        private Rule(boolean allow, String text, int kind) {
            this.allow = allow;
            this.text = text;
            this.kind = kind;
        }

        static Rule parse(String entry, String how) {
            boolean allow = !entry.startsWith("!");
            String pattern = allow ? entry : entry.substring(1).trim();
            if (pattern.equals("*") || pattern.equals("**")) {
                return new Rule(allow, "", 4);
            }
            int kind = 0;
            String body = pattern;
            if (pattern.endsWith(".**")) {
                kind = 2;
                body = pattern.substring(0, pattern.length() - 3);
            } else if (pattern.endsWith(".*")) {
                kind = 1;
                body = pattern.substring(0, pattern.length() - 2);
            } else if (pattern.endsWith("*")) {
                kind = 3;
                body = pattern.substring(0, pattern.length() - 1);
            }
            if (!isName(body)) {
                throw new IllegalArgumentException(ATTRIBUTE + ": entry '" + entry + "' is not understood" + how);
            }
            return new Rule(allow, kind == 1 || kind == 2 ? body + "." : body, kind);
        }

        private static boolean isName(String s) {
            if (s.isEmpty()) {
                return false;
            }
            for (String part : s.split("\\.", -1)) {
                if (part.isEmpty() || !Character.isJavaIdentifierStart(part.charAt(0))) {
                    return false;
                }
                for (int i = 1; i < part.length(); i++) {
                    if (!Character.isJavaIdentifierPart(part.charAt(i))) {
                        return false;
                    }
                }
            }
            return true;
        }

        boolean matches(String name) {
            switch (kind) {
                case 0:
                    return name.equals(text);
                case 1:
                    return name.startsWith(text) && name.indexOf('.', text.length()) < 0;
                case 2:
                case 3:
                    return name.startsWith(text);
                default:
                    return true;
            }
        }
    }
}
