namespace Reliability.Client.Tour;

/// <summary>One chapter of the guided tour: a capability shown by running it against the live cluster.</summary>
public interface ITourChapter
{
    string Title { get; }

    Task RunAsync(TourContext context, CancellationToken cancellationToken);
}
