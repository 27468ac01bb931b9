package io.msm.serializers;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The built-in entries of {@link SerialFilter}: {@code @gadgets} rejects classes known from
 * published deserialization gadget chains, even when the webapp ships their library;
 * {@code @jdk} allows the JDK's value, time and collection types and rejects every other JDK class
 * (the JDK holds gadgets of its own: TemplatesImpl, rowsets, JNDI, RMI, Swing's lazy values...).
 */
final class BuiltInLists {
    static final List<SerialFilter.Rule> GADGETS = rules(
            // commons-collections 3 and 4: the transformer chains and the entries that trigger them
            "!org.apache.commons.collections.functors.**",
            "!org.apache.commons.collections4.functors.**",
            "!org.apache.commons.collections.keyvalue.TiedMapEntry",
            "!org.apache.commons.collections4.keyvalue.TiedMapEntry",
            "!org.apache.commons.collections.map.LazyMap",
            "!org.apache.commons.collections4.map.LazyMap",
            "!org.apache.commons.collections.comparators.TransformingComparator",
            "!org.apache.commons.collections4.comparators.TransformingComparator",
            "!org.apache.commons.beanutils.BeanComparator",
            // Groovy's runtime closures and proxies
            "!org.codehaus.groovy.runtime.ConvertedClosure",
            "!org.codehaus.groovy.runtime.ConversionHandler",
            "!org.codehaus.groovy.runtime.MethodClosure",
            "!org.codehaus.groovy.runtime.CurriedClosure",
            "!org.codehaus.groovy.runtime.ComposedClosure",
            // xalan's TemplatesImpl, the JDK's copy and Apache's
            "!com.sun.org.apache.xalan.internal.**",
            "!org.apache.xalan.**",
            // Spring's object-factory and type-provider proxies, JNDI lookups on deserialization
            "!org.springframework.beans.factory.support.AutowireUtils$ObjectFactoryDelegatingInvocationHandler",
            "!org.springframework.beans.factory.ObjectFactory",
            "!org.springframework.beans.factory.config.PropertyPathFactoryBean",
            "!org.springframework.core.SerializableTypeWrapper$*",
            "!org.springframework.aop.framework.JdkDynamicAopProxy",
            "!org.springframework.aop.target.**",
            "!org.springframework.transaction.jta.JtaTransactionManager",
            // other published chains
            "!com.mchange.v2.c3p0.**",
            "!bsh.**",
            "!clojure.**",
            "!org.python.core.**",
            "!org.mozilla.javascript.**",
            "!com.sun.syndication.feed.impl.**",
            "!com.rometools.rome.feed.impl.**",
            "!org.hibernate.tuple.component.**",
            "!org.hibernate.property.**",
            "!org.hibernate.engine.spi.TypedValue",
            "!org.jboss.interceptor.**",
            "!org.jboss.weld.interceptor.**",
            "!org.apache.myfaces.el.CompositeComponentExpressionHolder",
            "!org.apache.myfaces.view.facelets.el.ValueExpressionMethodExpression",
            "!org.apache.commons.fileupload.disk.DiskFileItem",
            "!org.apache.wicket.util.upload.DiskFileItem",
            "!com.vaadin.data.util.NestedMethodProperty",
            "!com.vaadin.data.util.PropertysetItem",
            "!net.sf.json.**",
            "!javassist.**",
            "!org.apache.commons.configuration.**",
            "!org.apache.commons.configuration2.**",
            "!org.apache.click.control.**",
            "!com.alibaba.fastjson.**",
            "!org.apache.log4j.**",
            "!org.apache.logging.log4j.**");

    static final List<SerialFilter.Rule> JDK = rules(
            "java.lang.String", "java.lang.Boolean", "java.lang.Character", "java.lang.Number", "java.lang.Byte",
            "java.lang.Short", "java.lang.Integer", "java.lang.Long", "java.lang.Float", "java.lang.Double",
            "java.lang.Enum", "java.lang.Record", "java.lang.Object", "java.lang.Class", "java.lang.StringBuilder",
            "java.lang.StringBuffer", "java.lang.AbstractStringBuilder", "java.lang.String$CaseInsensitiveComparator",
            "java.lang.Throwable", "java.lang.Exception", "java.lang.RuntimeException", "java.lang.Error",
            "java.lang.IllegalArgumentException", "java.lang.IllegalStateException", "java.lang.StackTraceElement",
            "java.lang.invoke.SerializedLambda",
            "java.math.*",
            "java.util.*",
            "java.util.concurrent.*",
            "java.util.concurrent.atomic.*",
            "java.util.concurrent.locks.ReentrantLock*",
            "java.util.concurrent.locks.ReentrantReadWriteLock*",
            "java.util.concurrent.locks.StampedLock",
            "java.util.concurrent.locks.AbstractQueuedSynchronizer",
            // the conditions of the blocking queues (their waiters are transient)
            "java.util.concurrent.locks.AbstractQueuedSynchronizer$ConditionObject",
            "java.util.concurrent.locks.AbstractOwnableSynchronizer",
            "java.util.regex.Pattern",
            "java.time.**",
            "java.net.URI",
            // Not java.net.URL: its hashCode() resolves the host name, so planted sets or maps of URLs
            // would send DNS lookups and hold request threads; a webapp that keeps URLs names it.
            "java.text.*",
            "java.io.File",
            "java.sql.Timestamp", "java.sql.Date", "java.sql.Time",
            "java.beans.PropertyChangeSupport",
            // a plain bean, allowed on Tomcat 7 to 9 as jakarta's is on 10 and later
            "javax.servlet.http.Cookie",
            "sun.util.calendar.ZoneInfo",
            "!java.**", "!javax.**", "!jdk.**", "!sun.**", "!com.sun.**", "!org.w3c.**", "!org.xml.**",
            "!org.ietf.**", "!org.omg.**");

    private BuiltInLists() {
    }

    private static List<SerialFilter.Rule> rules(String... entries) {
        List<SerialFilter.Rule> rules = new ArrayList<>();
        for (String e : entries) {
            rules.add(SerialFilter.Rule.parse(e, ""));
        }
        return Collections.unmodifiableList(rules);
    }
}
