using Reliability.Silo;
using Reliability.Silo.Hosting;

const string SchemaOnly = "--schema-only";
var options = args.Where(a => a != SchemaOnly).ToArray();

return await StartupGuard.RunAsync(async () =>
{
    if (args.Contains(SchemaOnly))
    {
        await SiloApplication.ApplySchemaAsync(options);
        return;
    }

    var app = await SiloApplication.CreateAsync(options);
    await app.RunAsync();
});
