using Reliability.Silo;
using Reliability.Silo.Hosting;

const string SchemaOnly = "--schema-only";
const string HealthCheck = "--health-check";
var options = args.Where(a => a is not (SchemaOnly or HealthCheck)).ToArray();

return await StartupGuard.RunAsync(async () =>
{
    if (args.Contains(SchemaOnly))
    {
        await SiloApplication.ApplySchemaAsync(options);
    }
    else if (args.Contains(HealthCheck))
    {
        // For container health checks, where no curl exists: exit 0 when /health/ready answers 200.
        Environment.ExitCode = await SiloApplication.CheckReadyAsync(options) ? 0 : 1;
    }
    else
    {
        var app = await SiloApplication.CreateAsync(options);
        await app.RunAsync();
    }
});
