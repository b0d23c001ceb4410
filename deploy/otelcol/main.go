// Command otelcol is an OpenTelemetry Collector made of the collector's own core components (components.go),
// for hosts that cannot pull the collector's image: .ci/docker/otel-collector-image.sh compiles it from
// Debian's packaged Go sources and puts it in an image that docker-compose.yml runs as otel-collector.
package main

import (
	"log"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/otelcol"
)

// version is the packaged collector's upstream version, set by the build (-X main.version=...).
var version = "unknown"

func main() {
	settings := otelcol.CollectorSettings{
		// The description starts as the official distributions' do: the otlp exporters send it as their
		// user-agent, which is how a receiver behind the collector tells the collector's exports from others.
		BuildInfo: component.BuildInfo{
			Command:     "otelcol",
			Description: "OpenTelemetry Collector core build",
			Version:     version,
		},
		Factories: components,
		// file: for --config, env: for ${env:...} in it, yaml: for --set; no http(s): a config is a local file.
		ConfigProviderSettings: otelcol.ConfigProviderSettings{
			ResolverSettings: confmap.ResolverSettings{
				ProviderFactories: []confmap.ProviderFactory{
					fileprovider.NewFactory(),
					envprovider.NewFactory(),
					yamlprovider.NewFactory(),
				},
			},
		},
	}
	if err := otelcol.NewCommand(settings).Execute(); err != nil {
		log.Fatal(err)
	}
}
