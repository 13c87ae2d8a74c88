// Writes records through real log4j2 layouts to stdout, one line each, as an application would:
//
//   java -cp CLASSPATH Emit json|gelf '[{"level": "ERROR", "msg": "...", "context": {...},
//                                        "frames": 700}]'
//
// json: JsonLayout (compact, one event a line; the ThreadContext as "contextMap"). gelf: log4j-core's
// GelfLayout, uncompressed, one event a line. "frames": the record carries an exception thrown
// that many calls deep (a long stack trace). Compiled at test time against Debian's jars
// (liblog4j2-java, libjackson2-databind-java; JsonLayout needs Jackson).
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Iterator;
import java.util.Map;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.ThreadContext;
import org.apache.logging.log4j.core.appender.ConsoleAppender;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.logging.log4j.core.config.builder.api.AppenderComponentBuilder;
import org.apache.logging.log4j.core.config.builder.api.ConfigurationBuilder;
import org.apache.logging.log4j.core.config.builder.api.ConfigurationBuilderFactory;
import org.apache.logging.log4j.core.config.builder.api.LayoutComponentBuilder;
import org.apache.logging.log4j.core.config.builder.impl.BuiltConfiguration;

public final class Emit {
    private static RuntimeException deep(int frames) {
        if (frames <= 1)
            return new IllegalStateException("disk \"sda\" full after " + "retries");
        return deep(frames - 1);
    }

    private static void configure(String kind) {
        ConfigurationBuilder<BuiltConfiguration> builder =
            ConfigurationBuilderFactory.newConfigurationBuilder();
        builder.setStatusLevel(Level.WARN);
        LayoutComponentBuilder layout;
        if (kind.equals("json")) {
            layout = builder.newLayout("JsonLayout")
                         .addAttribute("compact", true)
                         .addAttribute("eventEol", true)
                         .addAttribute("properties", true);
        } else {
            layout = builder.newLayout("GelfLayout")
                         .addAttribute("host", "web-01")
                         .addAttribute("compressionType", "OFF")
                         .addAttribute("includeNewLineDelimiter", true)
                         .addAttribute("includeStacktrace", true);
        }
        AppenderComponentBuilder console = builder.newAppender("out", "Console")
                                               .addAttribute("target",
                                                             ConsoleAppender.Target.SYSTEM_OUT)
                                               .add(layout);
        builder.add(console);
        builder.add(builder.newRootLogger(Level.ALL).add(builder.newAppenderRef("out")));
        Configurator.initialize(builder.build());
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2 || !(args[0].equals("json") || args[0].equals("gelf"))) {
            System.err.println("usage: Emit json|gelf RECORDS");
            System.exit(2);
        }
        configure(args[0]);
        Logger logger = LogManager.getLogger("app.Billing");
        for (JsonNode record : new ObjectMapper().readTree(args[1])) {
            ThreadContext.clearMap();
            JsonNode context = record.path("context");
            for (Iterator<Map.Entry<String, JsonNode>> it = context.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> entry = it.next();
                ThreadContext.put(entry.getKey(), entry.getValue().asText());
            }
            Level level = Level.getLevel(record.get("level").asText());
            String msg = record.get("msg").asText();
            int frames = record.path("frames").asInt(0);
            if (frames > 0)
                logger.log(level, msg, new RuntimeException("billing failed", deep(frames)));
            else
                logger.log(level, msg);
        }
        LogManager.shutdown();
    }
}
