package io.msm.serializers;

import java.util.Arrays;

/**
 * An upper bound of the steps hashCode() of one key or element takes, from the graph of what it
 * reaches at the moment a collection hashes it. Nothing is hashed to find out: the graph is walked
 * once, breadth first, and its strongly connected parts are found (Tarjan).
 *
 * <ul>
 * <li>Where the graph is acyclic, hashCode() visits every path from the key: a node costs one step
 * plus the cost of each of its children, once per edge. Shared references make this exponential
 * in the depth: a set holding two sets that both hold the same two sets, a hundred levels down, is
 * the "HashSet bomb"; lists, map entries and beans whose hashCode() uses their fields do the same.</li>
 * <li>Where nodes form a cycle, hashCode() either does not follow every edge of it, and then it
 * visits at most every simple path through it (counted, within the budget), or it follows the
 * cycle round and round until the stack overflows, repeating at each turn what it hashes on the
 * way: {@link #LOOPS} times that. A StackOverflowError ends the attribute, so that repetition is
 * charged once per attribute (the caller keeps {@code loopCharged}).</li>
 * </ul>
 *
 * Subclasses supply the graph: {@link #expand} lists one node's children with {@link #edgeTo} and
 * tells what its leaf children cost.
 */
public abstract class HashCost {
    /** hashCode() calls that fit on a 1 MB thread stack before it overflows, about. */
    public static final long LOOPS = 16_384;
    private static final long CAP = Long.MAX_VALUE / 4;

    private int nodes;
    private long[] own = new long[16];
    private int[] edgeStart = new int[16];
    private int[] edgeEnd = new int[16];
    private int[] edges = new int[32];
    private int edgeCount;
    private long budget;
    private long loopNeed;
    private long loopExtra;

    /** Starts a new graph; its first node, 0, is the key. */
    protected final void reset() {
        nodes = 0;
        edgeCount = 0;
        loopNeed = 0;
        loopExtra = 0;
    }

    /** @return the id of a new node, to be expanded in turn */
    protected final int addNode() {
        if (nodes == own.length) {
            int size = nodes * 2;
            own = Arrays.copyOf(own, size);
            edgeStart = Arrays.copyOf(edgeStart, size);
            edgeEnd = Arrays.copyOf(edgeEnd, size);
        }
        return nodes++;
    }

    /** An edge from the node being expanded to {@code node}. */
    protected final void edgeTo(int node) {
        if (edgeCount == edges.length) {
            edges = Arrays.copyOf(edges, edgeCount * 2);
        }
        edges[edgeCount++] = node;
    }

    /** @return true once the graph has more nodes and edges than the budget: its cost exceeds it anyway */
    protected final boolean full() {
        return nodes + (long) edgeCount > budget;
    }

    /**
     * Lists the children of node {@code node} that hashing may visit, with {@link #edgeTo} (adding
     * nodes with {@link #addNode} for those not seen yet).
     *
     * @return the steps hashing the node itself takes: 1, plus 1 for each child that is a leaf
     */
    protected abstract long expand(int node);

    /** @return the single pass over the largest cycle the key reaches, once {@link #cost} has run (0: none) */
    public final long loopNeed() {
        return loopNeed;
    }

    /** @return what the repetition of a cycle added to the last {@link #cost} (charged once per attribute) */
    public final long loopExtra() {
        return loopExtra;
    }

    /**
     * @param budget the steps still allowed; the walk stops as soon as the cost exceeds them
     * @param loopCharged the repetition of a cycle already charged in this attribute
     * @return the cost of hashing node 0, or a number above the budget; the caller charges it
     */
    protected final long cost(long budget, long loopCharged) {
        this.budget = budget;
        for (int v = 0; v < nodes; v++) {
            edgeStart[v] = edgeCount;
            own[v] = expand(v);
            edgeEnd[v] = edgeCount;
            if (full()) {
                return budget + 1;
            }
        }
        return evaluate(loopCharged);
    }

    private long evaluate(long loopCharged) {
        int n = nodes;
        int[] index = new int[n];
        int[] low = new int[n];
        int[] scc = new int[n];
        int[] pos = new int[n];
        int[] stack = new int[n];
        int[] calls = new int[n];
        boolean[] onStack = new boolean[n];
        int[] members = new int[n];
        int[] sccStart = new int[n + 1];
        Arrays.fill(index, -1);
        int counter = 0;
        int sp = 0;
        int cp = 0;
        int sccCount = 0;
        int memberCount = 0;
        index[0] = low[0] = counter++;
        stack[sp++] = 0;
        onStack[0] = true;
        pos[0] = edgeStart[0];
        calls[cp++] = 0;
        while (cp > 0) {
            int v = calls[cp - 1];
            if (pos[v] < edgeEnd[v]) {
                int w = edges[pos[v]++];
                if (index[w] < 0) {
                    index[w] = low[w] = counter++;
                    stack[sp++] = w;
                    onStack[w] = true;
                    pos[w] = edgeStart[w];
                    calls[cp++] = w;
                } else if (onStack[w] && index[w] < low[v]) {
                    low[v] = index[w];
                }
                continue;
            }
            cp--;
            if (low[v] == index[v]) {
                sccStart[sccCount] = memberCount;
                int w;
                do {
                    w = stack[--sp];
                    onStack[w] = false;
                    scc[w] = sccCount;
                    members[memberCount++] = w;
                } while (w != v);
                sccCount++;
            }
            if (cp > 0) {
                int u = calls[cp - 1];
                if (low[v] < low[u]) {
                    low[u] = low[v];
                }
            }
        }
        sccStart[sccCount] = memberCount;

        // Tarjan emits a component after every component it reaches: weights bottom-up.
        long[] weight = new long[n]; // a trivial component's cost, or a cyclic one's side cost
        long[] entry = new long[n];
        Arrays.fill(entry, -1);
        boolean[] cyclic = new boolean[sccCount];
        for (int c = 0; c < sccCount; c++) {
            int first = members[sccStart[c]];
            boolean isCyclic = sccStart[c + 1] - sccStart[c] > 1;
            if (!isCyclic) {
                for (int e = edgeStart[first]; e < edgeEnd[first]; e++) {
                    if (edges[e] == first) {
                        isCyclic = true;
                        break;
                    }
                }
            }
            cyclic[c] = isCyclic;
            for (int m = sccStart[c]; m < sccStart[c + 1]; m++) {
                int u = members[m];
                long sum = own[u];
                for (int e = edgeStart[u]; e < edgeEnd[u]; e++) {
                    int t = edges[e];
                    if (scc[t] != c) {
                        sum = add(sum, valueOf(t, scc, cyclic, weight, entry));
                    }
                }
                weight[u] = sum;
                if (sum > budget) {
                    return budget + 1;
                }
            }
        }
        long cost = valueOf(0, scc, cyclic, weight, entry);
        if (loopNeed > loopCharged && cost <= budget) {
            loopExtra = mul(LOOPS, loopNeed - loopCharged);
            cost = add(cost, loopExtra);
        }
        return cost;
    }

    private long valueOf(int t, int[] scc, boolean[] cyclic, long[] weight, long[] entry) {
        if (!cyclic[scc[t]]) {
            return weight[t];
        }
        if (entry[t] < 0) {
            entry[t] = paths(t, scc, weight);
            if (entry[t] > loopNeed) {
                loopNeed = entry[t];
            }
        }
        return entry[t];
    }

    /** Every simple path from {@code start} inside its component, each node costing its side weight. */
    private long paths(int start, int[] scc, long[] side) {
        int c = scc[start];
        boolean[] onPath = new boolean[nodes];
        int[] path = new int[nodes];
        int[] next = new int[nodes];
        int depth = 0;
        long total = side[start];
        path[depth] = start;
        next[depth] = edgeStart[start];
        onPath[start] = true;
        depth++;
        while (depth > 0) {
            int v = path[depth - 1];
            if (next[depth - 1] < edgeEnd[v]) {
                int w = edges[next[depth - 1]++];
                if (scc[w] == c && !onPath[w]) {
                    total = add(total, side[w]);
                    if (total > budget) {
                        return budget + 1;
                    }
                    onPath[w] = true;
                    path[depth] = w;
                    next[depth] = edgeStart[w];
                    depth++;
                }
                continue;
            }
            onPath[v] = false;
            depth--;
        }
        return total;
    }

    private static long add(long a, long b) {
        long s = a + b;
        return s > CAP || s < 0 ? CAP : s;
    }

    private static long mul(long a, long b) {
        return b != 0 && a > CAP / b ? CAP : a * b;
    }
}
